// Intrusive doubly linked list: an object embeds a ListNode per list it can be on,
// so linking never allocates.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kstd {

struct ListNode {
    ListNode* prev = nullptr;
    ListNode* next = nullptr;
    bool linked() const { return next != nullptr; }
};

template <typename T, ListNode T::*Member>
class List {
public:
    constexpr List() { head_.prev = head_.next = &head_; }
    List(const List&) = delete;
    List& operator=(const List&) = delete;

    bool empty() const { return head_.next == &head_; }
    T* front() const { return empty() ? nullptr : owner(head_.next); }
    T* back() const { return empty() ? nullptr : owner(head_.prev); }

    void push_front(T* obj) { insert_after(&head_, obj); }
    void push_back(T* obj) { insert_after(head_.prev, obj); }
    // Inserts obj before pos (pos null: at the end).
    void insert_before(T* pos, T* obj) { insert_after(pos ? (pos->*Member).prev : head_.prev, obj); }

    void remove(T* obj) {
        ListNode& n = obj->*Member;
        n.prev->next = n.next;
        n.next->prev = n.prev;
        n.prev = n.next = nullptr;
    }

    T* pop_front() {
        T* obj = front();
        if (obj) remove(obj);
        return obj;
    }

    T* next(T* obj) const {
        ListNode* n = (obj->*Member).next;
        return n == &head_ ? nullptr : owner(n);
    }

    T* prev(T* obj) const {
        ListNode* n = (obj->*Member).prev;
        return n == &head_ ? nullptr : owner(n);
    }

private:
    static T* owner(const ListNode* n) {
        // The member's offset from a fake object at a non-null address; never dereferenced.
        const auto* base = reinterpret_cast<const T*>(uintptr_t{4096});
        auto off = reinterpret_cast<uintptr_t>(&(base->*Member)) - uintptr_t{4096};
        return reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(n) - off);
    }

    void insert_after(ListNode* pos, T* obj) {
        ListNode& n = obj->*Member;
        n.prev = pos;
        n.next = pos->next;
        pos->next->prev = &n;
        pos->next = &n;
    }

    ListNode head_;
};

}  // namespace kstd
