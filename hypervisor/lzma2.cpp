// LZMA2 chunk parsing (the format is described in lzma2.hpp). Every size is checked against
// the input left and the output buffer's room before a byte is copied or decoded.
#include "lzma2.hpp"

#include "kstd/string.hpp"

namespace xz {

namespace {

constexpr uint8_t CONTROL_END = 0x00;
constexpr uint8_t CONTROL_STORED_RESET = 0x01;
constexpr uint8_t CONTROL_STORED = 0x02;
constexpr uint8_t CONTROL_LZMA = 0x80;
constexpr uint8_t CONTROL_DICT_RESET = 0xe0;  // LZMA chunk, reset 3
constexpr unsigned RESET_STATE = 1, RESET_PROPERTIES = 2;

unsigned be16(const uint8_t* p) { return unsigned(p[0]) << 8 | p[1]; }

struct Chunks {
    std::span<const uint8_t> in;
    Window& w;
    LzmaDecoder& lzma;
    size_t at = 0;
    bool need_dict_reset = true;
    bool need_properties = true;

    size_t left() const { return in.size() - at; }

    Error stored(size_t size) {
        if (left() < size) return Error::truncated;
        if (size > w.size - w.pos) return Error::output_full;
        memcpy(w.buf + w.pos, in.data() + at, size);
        w.pos += size;
        at += size;
        return Error::ok;
    }

    Error lzma_chunk(uint8_t control) {
        unsigned reset = (control >> 5) & 3;
        size_t header = reset >= RESET_PROPERTIES ? 5 : 4;
        if (left() < header) return Error::truncated;
        size_t unpacked = (size_t(control & 0x1f) << 16) + be16(in.data() + at) + 1;
        size_t packed = size_t(be16(in.data() + at + 2)) + 1;
        if (reset >= RESET_PROPERTIES) {
            LzmaProperties p;
            if (!decode_lzma2_properties(in[at + 4], p)) return Error::bad_lzma_properties;
            lzma.set_properties(p);
            need_properties = false;
        } else if (need_properties) {
            return Error::lzma2_missing_properties;
        } else if (reset == RESET_STATE) {
            lzma.reset_state();
        }
        at += header;
        if (left() < packed) return Error::truncated;
        if (unpacked > w.size - w.pos) return Error::output_full;
        Error e = lzma.decode_chunk(in.subspan(at, packed), w, unpacked);
        at += packed;
        return e;
    }

    // One chunk, its control byte at `at`. Sets `end` at the end byte.
    Error next(bool& end) {
        uint8_t control = in[at++];
        if (control == CONTROL_END) {
            end = true;
            return Error::ok;
        }
        if (control >= CONTROL_DICT_RESET || control == CONTROL_STORED_RESET) {
            need_dict_reset = false;
            need_properties = true;
            w.dict_start = w.pos;
        } else if (need_dict_reset) {
            return control > CONTROL_STORED && control < CONTROL_LZMA ? Error::bad_lzma2_control
                                                                      : Error::lzma2_missing_dict_reset;
        }
        if (control >= CONTROL_LZMA) return lzma_chunk(control);
        if (control > CONTROL_STORED) return Error::bad_lzma2_control;
        if (left() < 2) return Error::truncated;
        size_t size = size_t(be16(in.data() + at)) + 1;
        at += 2;
        return stored(size);
    }
};

}  // namespace

uint64_t lzma2_dictionary_size(uint8_t props) {
    if (props > 40) return 0;
    if (props == 40) return 0xffffffffu;
    return uint64_t(2 | (props & 1)) << (props / 2 + 11);
}

Error decode_lzma2(std::span<const uint8_t> in, Window& w, LzmaDecoder& lzma, size_t& used, size_t& failed_at) {
    Chunks c{in, w, lzma};
    for (;;) {
        if (c.left() == 0) {
            failed_at = c.at;
            return Error::truncated;
        }
        size_t chunk_at = c.at;
        bool end = false;
        Error e = c.next(end);
        if (e != Error::ok) {
            failed_at = chunk_at;
            return e;
        }
        if (end) {
            used = c.at;
            return Error::ok;
        }
    }
}

}  // namespace xz
