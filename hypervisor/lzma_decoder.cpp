// The LZMA model, as the LZMA SDK documents it: every decision is one bit coded with an
// adaptive 11-bit probability that the bit is 0, picked by the decoder's context.
//
// One symbol per step, chosen by the context state (12 states recording whether the last few
// symbols were literals, matches, repeated matches or single repeated bytes) and the low pb
// bits of the position:
//   is_match = 0                         literal: 8 bits through a tree picked by the
//                                        position's low lp bits and the previous byte's high
//                                        lc bits; after a match the bits of the byte at the
//                                        last distance steer the tree until they first differ;
//   is_match = 1, is_rep = 0             match: a length, then a distance (slot, then extra bits);
//   is_rep = 1, is_rep0 = 0, rep0_long = 0  one byte from the last distance ("short rep");
//   is_rep = 1, otherwise                a length with one of the four last distances, which
//                                        moves to the front.
// Lengths: 2..9 (3 bits per position state), 10..17 (3 bits), 18..273 (8 bits).
// Distances: a 6-bit slot, in the context of the length (2, 3, 4, or more); slots 0..3 are
// the distance; above, the slot's low bit under a leading 1 gives the top two bits of the
// distance and (slot / 2 - 1) more bits follow: reverse bit trees for slots below 14,
// otherwise direct bits then four reverse-coded "align" bits. Distances are stored minus one;
// all ones is the end marker.
#include "lzma_decoder.hpp"

namespace xz {

namespace {

constexpr unsigned PROB_BITS = 11;
constexpr uint16_t PROB_ONE = 1u << PROB_BITS;
constexpr unsigned MOVE_BITS = 5;
constexpr uint32_t RANGE_TOP = 1u << 24;
constexpr size_t RANGE_INIT_BYTES = 5;
constexpr unsigned LITERAL_STATES = 7;  // states below this follow a literal
constexpr uint32_t END_MARKER = 0xffffffffu;

// The binary arithmetic decoder over exactly one chunk's bytes. Past the end it reads zeros
// and remembers that it did.
class RangeDecoder {
public:
    // Reads the five leading bytes: a zero, then the initial code, big-endian.
    Error init(std::span<const uint8_t> in) {
        next_ = in.data();
        end_ = in.data() + in.size();
        if (in.size() < RANGE_INIT_BYTES) return Error::lzma_chunk_size;
        if (in[0] != 0) return Error::lzma_bad_first_byte;
        code_ = uint32_t(in[1]) << 24 | uint32_t(in[2]) << 16 | uint32_t(in[3]) << 8 | in[4];
        next_ += RANGE_INIT_BYTES;
        // The code is always below the range; all ones cannot come from an encoder.
        if (code_ == range_) return Error::lzma_bad_first_byte;
        return Error::ok;
    }

    unsigned bit(uint16_t& prob) {
        normalize();
        uint32_t bound = (range_ >> PROB_BITS) * prob;
        if (code_ < bound) {
            range_ = bound;
            prob = uint16_t(prob + ((PROB_ONE - prob) >> MOVE_BITS));
            return 0;
        }
        range_ -= bound;
        code_ -= bound;
        prob = uint16_t(prob - (prob >> MOVE_BITS));
        return 1;
    }

    // A `bits`-bit number coded most significant bit first through a tree of 2^bits - 1
    // probabilities at probs[1...].
    unsigned tree(uint16_t* probs, unsigned bits) {
        unsigned node = 1;
        for (unsigned i = 0; i < bits; ++i) node = (node << 1) | bit(probs[node]);
        return node - (1u << bits);
    }

    // The same, least significant bit first; this tree's nodes 1... are at probs[0...].
    unsigned reverse_tree(uint16_t* probs, unsigned bits) {
        unsigned node = 1, value = 0;
        for (unsigned i = 0; i < bits; ++i) {
            unsigned b = bit(probs[node - 1]);
            node = (node << 1) | b;
            value |= b << i;
        }
        return value;
    }

    // Bits with a fixed probability of one half, most significant first.
    uint32_t direct(unsigned bits) {
        uint32_t value = 0;
        for (unsigned i = 0; i < bits; ++i) {
            normalize();
            range_ >>= 1;
            uint32_t b = code_ >= range_;
            if (b) code_ -= range_;
            value = (value << 1) | b;
        }
        return value;
    }

    // Whether the chunk ended exactly: once normalized after its last bit (the encoder
    // flushes that far), every byte used, none invented, and the code back to zero.
    bool finish() {
        normalize();
        return !overrun_ && next_ == end_ && code_ == 0;
    }

private:
    void normalize() {
        if (range_ >= RANGE_TOP) return;
        range_ <<= 8;
        uint8_t byte = 0;
        if (next_ != end_)
            byte = *next_++;
        else
            overrun_ = true;
        code_ = (code_ << 8) | byte;
    }

    const uint8_t* next_ = nullptr;
    const uint8_t* end_ = nullptr;
    uint32_t range_ = 0xffffffffu;
    uint32_t code_ = 0;
    bool overrun_ = false;
};

unsigned state_after_literal(unsigned s) { return s < 4 ? 0 : s < 10 ? s - 3 : s - 6; }
unsigned state_after_match(unsigned s) { return s < LITERAL_STATES ? 7 : 10; }
unsigned state_after_rep(unsigned s) { return s < LITERAL_STATES ? 8 : 11; }
unsigned state_after_short_rep(unsigned s) { return s < LITERAL_STATES ? 9 : 11; }

template <typename T, size_t N>
void fill(T (&a)[N], uint16_t v) {
    if constexpr (requires { a[0][0]; })
        for (auto& row : a) fill(row, v);
    else
        for (auto& p : a) p = v;
}

}  // namespace

bool decode_lzma2_properties(uint8_t byte, LzmaProperties& out) {
    if (byte >= 9 * 5 * 5) return false;
    unsigned lc = byte % 9, lp = (byte / 9) % 5, pb = byte / 45;
    if (lc + lp > 4) return false;
    out = LzmaProperties{uint8_t(lc), uint8_t(lp), uint8_t(pb)};
    return true;
}

void LzmaDecoder::set_properties(LzmaProperties p) {
    props_ = p;
    reset_state();
}

void LzmaDecoder::reset_state() {
    constexpr uint16_t HALF = PROB_ONE / 2;
    Model& m = model_;
    fill(m.is_match, HALF);
    fill(m.is_rep, HALF);
    fill(m.is_rep0, HALF);
    fill(m.is_rep1, HALF);
    fill(m.is_rep2, HALF);
    fill(m.is_rep0_long, HALF);
    fill(m.dist_slot, HALF);
    fill(m.dist_special, HALF);
    fill(m.align, HALF);
    for (LengthModel* l : {&m.match_len, &m.rep_len}) {
        l->choice = l->choice2 = HALF;
        fill(l->low, HALF);
        fill(l->mid, HALF);
        fill(l->high, HALF);
    }
    // Only the literal coders the properties use are ever read.
    for (unsigned i = 0; i < (1u << (props_.lc + props_.lp)); ++i) fill(m.literal[i], HALF);
    state_ = 0;
    rep_[0] = rep_[1] = rep_[2] = rep_[3] = 0;
}

// The decoding loop's working set, held by value in a local object so that the range
// decoder, the position, the state and the distances can live in registers (stores of output
// bytes could otherwise alias them and force reloads).
struct LzmaDecoder::Symbols {
    Model& m;
    const LzmaProperties props;
    RangeDecoder rc;
    uint8_t* const buf;
    size_t pos;
    const size_t dict_start;
    const uint64_t dict_size;
    const size_t end;  // the chunk's last output byte + 1
    unsigned state;
    uint32_t rep0, rep1, rep2, rep3;

    size_t position() const { return pos - dict_start; }
    // Whether a match at distance rep + 1 reaches only decoded bytes of this dictionary.
    bool distance_ok(uint32_t rep) const { return rep < position() && rep < dict_size; }

    Error literal() {
        size_t p = position();
        unsigned prev = p ? buf[pos - 1] : 0;
        unsigned coder = ((unsigned(p) & ((1u << props.lp) - 1)) << props.lc) + (prev >> (8 - props.lc));
        uint16_t* probs = m.literal[coder];
        unsigned symbol = 1;
        if (state >= LITERAL_STATES) {
            // Matched literal: the byte at the last distance predicts the bits until the
            // first bit that differs from it; then the plain tree takes over. (The distance
            // was checked when its match was decoded; checked again all the same.)
            if (!distance_ok(rep0)) return Error::lzma_bad_distance;
            unsigned match = buf[pos - rep0 - 1];
            while (symbol < 0x100) {
                unsigned match_bit = (match >> 7) & 1;
                match <<= 1;
                unsigned b = rc.bit(probs[0x100 + (match_bit << 8) + symbol]);
                symbol = (symbol << 1) | b;
                if (b != match_bit) break;
            }
        }
        while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(probs[symbol]);
        buf[pos++] = uint8_t(symbol);
        state = state_after_literal(state);
        return Error::ok;
    }

    unsigned length(LengthModel& l, unsigned pos_state) {
        if (rc.bit(l.choice) == 0) return MATCH_LEN_MIN + rc.tree(l.low[pos_state], 3);
        if (rc.bit(l.choice2) == 0) return MATCH_LEN_MIN + 8 + rc.tree(l.mid[pos_state], 3);
        return MATCH_LEN_MIN + 16 + rc.tree(l.high, 8);
    }

    uint32_t distance(unsigned len) {
        unsigned dist_state = len - MATCH_LEN_MIN < DIST_STATES - 1 ? len - MATCH_LEN_MIN : DIST_STATES - 1;
        unsigned slot = rc.tree(m.dist_slot[dist_state], DIST_SLOT_BITS);
        if (slot < 4) return slot;
        unsigned extra = (slot >> 1) - 1;
        uint32_t dist = (2u | (slot & 1)) << extra;
        if (slot < DIST_MODEL_END) {
            // Each slot's reverse tree starts at dist - slot in dist_special.
            return dist + rc.reverse_tree(m.dist_special + (dist - slot), extra);
        }
        dist += rc.direct(extra - ALIGN_BITS) << ALIGN_BITS;
        return dist + rc.reverse_tree(m.align, ALIGN_BITS);
    }

    Error copy(uint32_t rep, unsigned len) {
        if (!distance_ok(rep)) return Error::lzma_bad_distance;
        if (len > end - pos) return Error::lzma_match_past_chunk;
        uint8_t* dst = buf + pos;
        const uint8_t* src = dst - rep - 1;
        // Byte by byte: when the distance is shorter than the length the copy reads what it
        // has just written, repeating the last rep + 1 bytes.
        for (unsigned i = 0; i < len; ++i) dst[i] = src[i];
        pos += len;
        return Error::ok;
    }

    Error match(unsigned pos_state) {
        unsigned len = length(m.match_len, pos_state);
        uint32_t dist = distance(len);
        if (dist == END_MARKER) return Error::lzma_end_marker;
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        rep0 = dist;
        state = state_after_match(state);
        return copy(dist, len);
    }

    Error rep_match(unsigned pos_state) {
        unsigned s = state;
        if (rc.bit(m.is_rep0[s]) == 0) {
            if (rc.bit(m.is_rep0_long[s][pos_state]) == 0) {
                state = state_after_short_rep(s);
                return copy(rep0, 1);
            }
        } else {
            // One of the older distances moves to the front.
            uint32_t dist;
            if (rc.bit(m.is_rep1[s]) == 0) {
                dist = rep1;
            } else {
                if (rc.bit(m.is_rep2[s]) == 0) {
                    dist = rep2;
                } else {
                    dist = rep3;
                    rep3 = rep2;
                }
                rep2 = rep1;
            }
            rep1 = rep0;
            rep0 = dist;
        }
        unsigned len = length(m.rep_len, pos_state);
        state = state_after_rep(s);
        return copy(rep0, len);
    }

    Error run() {
        const unsigned pos_mask = (1u << props.pb) - 1;
        while (pos < end) {
            unsigned pos_state = unsigned(position()) & pos_mask;
            Error e;
            if (rc.bit(m.is_match[state][pos_state]) == 0)
                e = literal();
            else if (rc.bit(m.is_rep[state]) == 0)
                e = match(pos_state);
            else
                e = rep_match(pos_state);
            if (e != Error::ok) return e;
        }
        return rc.finish() ? Error::ok : Error::lzma_chunk_size;
    }
};

Error LzmaDecoder::decode_chunk(std::span<const uint8_t> in, Window& w, size_t out_bytes) {
    Symbols sym{model_, props_,  RangeDecoder{}, w.buf,  w.pos,   w.dict_start, w.dict_size,
                w.pos + out_bytes, state_, rep_[0], rep_[1], rep_[2], rep_[3]};
    if (Error e = sym.rc.init(in); e != Error::ok) return e;
    Error e = sym.run();
    w.pos = sym.pos;
    state_ = sym.state;
    rep_[0] = sym.rep0;
    rep_[1] = sym.rep1;
    rep_[2] = sym.rep2;
    rep_[3] = sym.rep3;
    return e;
}

}  // namespace xz
