// The LZMA decoder behind LZMA2: a range decoder driving an adaptive binary model of literals,
// matches and repeated matches, writing into a flat output buffer that is also its dictionary.
//
// Decoding is single-call: the whole compressed chunk and the whole output buffer are in
// memory, so no state is kept between input bytes and a match is copied straight out of the
// bytes already written. What persists from one LZMA2 chunk to the next is the model
// (probabilities, state, the four most recent distances) and the properties; the range decoder
// starts afresh in every chunk.
//
// Bounds: the chunk's input is exactly its compressed size and its output exactly its
// uncompressed size; every match is checked against the bytes written since the last
// dictionary reset, the dictionary size and the chunk's end before anything is copied, so
// corrupt data can give wrong bytes but never a read or write outside the buffers. A range
// decoder that runs out of input reads zeros and the chunk fails at its end; every loop
// produces at least one byte per symbol, so decoding always ends.
#pragma once

#include <span>

#include "kstd/types.hpp"
#include "xz_error.hpp"

namespace xz {

// The output buffer, and the part of it matches may reach.
struct Window {
    uint8_t* buf;
    size_t size;         // capacity of buf
    size_t pos;          // where the next byte goes
    size_t dict_start;   // the last dictionary reset: no match reaches before it
    uint64_t dict_size;  // no match reaches further back than this
};

struct LzmaProperties {
    uint8_t lc;  // literal context bits: high bits of the previous byte
    uint8_t lp;  // literal position bits
    uint8_t pb;  // position bits of the other contexts
};

// Decodes an LZMA2 properties byte, (pb * 5 + lp) * 9 + lc; false unless pb <= 4 and
// lc + lp <= 4 (LZMA2's limit on literal contexts).
bool decode_lzma2_properties(uint8_t byte, LzmaProperties& out);

class LzmaDecoder final {
public:
    static constexpr unsigned STATES = 12;
    static constexpr unsigned POS_STATES_MAX = 16;   // 1 << 4, pb at most 4
    static constexpr unsigned LITERAL_CODERS_MAX = 16;  // 1 << (lc + lp), at most 4 bits
    static constexpr unsigned LITERAL_CODER_SIZE = 0x300;
    static constexpr unsigned DIST_STATES = 4;       // by match length 2, 3, 4, 5+
    static constexpr unsigned DIST_SLOT_BITS = 6;
    static constexpr unsigned DIST_MODEL_END = 14;   // slots from here on use direct bits + align
    static constexpr unsigned FULL_DISTANCES = 128;  // distances below this never use align bits
    static constexpr unsigned ALIGN_BITS = 4;
    static constexpr unsigned MATCH_LEN_MIN = 2;

    // New properties; the model is reset as well.
    void set_properties(LzmaProperties p);
    // Back to the initial model (probabilities one half, literal state, distances zero).
    void reset_state();

    // Decodes one chunk: `in` is exactly the chunk's range-coded data, which must produce
    // exactly `out_bytes` bytes at w.pos (the caller has checked they fit in w). Advances
    // w.pos past what was written, also on failure.
    Error decode_chunk(std::span<const uint8_t> in, Window& w, size_t out_bytes);

private:
    using Prob = uint16_t;

    struct LengthModel {
        Prob choice;   // length 2..9 or more
        Prob choice2;  // 10..17 or 18..273
        Prob low[POS_STATES_MAX][8];
        Prob mid[POS_STATES_MAX][8];
        Prob high[256];
    };

    struct Model {
        Prob is_match[STATES][POS_STATES_MAX];
        Prob is_rep[STATES];
        Prob is_rep0[STATES];
        Prob is_rep1[STATES];
        Prob is_rep2[STATES];
        Prob is_rep0_long[STATES][POS_STATES_MAX];
        Prob dist_slot[DIST_STATES][1 << DIST_SLOT_BITS];
        Prob dist_special[FULL_DISTANCES - DIST_MODEL_END];
        Prob align[1 << ALIGN_BITS];
        LengthModel match_len;
        LengthModel rep_len;
        Prob literal[LITERAL_CODERS_MAX][LITERAL_CODER_SIZE];
    };

    struct Symbols;  // the decoding loop's helpers (lzma_decoder.cpp)

    Model model_;
    unsigned state_ = 0;
    uint32_t rep_[4] = {};  // the four most recent distances, minus one
    LzmaProperties props_{};
};

}  // namespace xz
