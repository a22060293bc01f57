#include "xz_test_support.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>

#include "crc.hpp"

namespace xz_test {

namespace {

std::string temp_dir() {
    char tmpl[] = "/tmp/kestrel-xz-test.XXXXXX";
    const char* d = mkdtemp(tmpl);
    return d ? std::string(d) : std::string();
}

void write_file(const std::string& path, const Bytes& data) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

Bytes read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace

Bytes host_xz(const Bytes& data, const std::string& options) {
    std::string dir = temp_dir();
    if (dir.empty()) {
        ADD_FAILURE() << "cannot make a temporary directory";
        return {};
    }
    std::string in = dir + "/in", out = dir + "/out.xz", err = dir + "/err";
    write_file(in, data);
    std::string cmd = "xz -c " + options + " < " + in + " > " + out + " 2> " + err;
    int status = std::system(cmd.c_str());
    Bytes result = read_file(out);
    Bytes message = read_file(err);
    std::system(("rm -rf " + dir).c_str());
    if (status != 0) {
        ADD_FAILURE() << "host command failed (is xz-utils installed? tools/deps.sh installs it): " << cmd << ": "
                      << std::string(message.begin(), message.end());
        return {};
    }
    return result;
}

Bytes host_gzip(const Bytes& data, const std::string& options) {
    std::string dir = temp_dir();
    std::string in = dir + "/data", out = dir + "/out.gz";
    write_file(in, data);
    int status = std::system(("gzip -c " + options + " " + in + " > " + out).c_str());
    Bytes result = read_file(out);
    std::system(("rm -rf " + dir).c_str());
    EXPECT_EQ(status, 0) << "host gzip " << options << " failed";
    return result;
}

Bytes host_unxz(const Bytes& packed, bool& ok) {
    std::string dir = temp_dir();
    std::string in = dir + "/in.xz", out = dir + "/out";
    write_file(in, packed);
    ok = !dir.empty() && std::system(("xz -dc < " + in + " > " + out + " 2>/dev/null").c_str()) == 0;
    Bytes result = read_file(out);
    std::system(("rm -rf " + dir).c_str());
    return result;
}

Bytes random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    Bytes b(n);
    for (auto& x : b) x = uint8_t(rng());
    return b;
}

Bytes text_like(size_t n, uint32_t seed) {
    static const char* const words[] = {"the",     "hypervisor", "frame", "domain", "grant", "event",  "channel",
                                        "page",    "table",      "kestrel", "xen",  "linux", "vcpu",   "memory",
                                        "shared",  "info",       "boot",  "module", "decode", "stream", "\n"};
    std::mt19937 rng(seed);
    Bytes b;
    b.reserve(n);
    while (b.size() < n) {
        const char* w = words[rng() % std::size(words)];
        for (const char* p = w; *p && b.size() < n; ++p) b.push_back(uint8_t(*p));
        if (b.size() < n) b.push_back(rng() % 7 == 0 ? ',' : ' ');
    }
    return b;
}

Bytes x86_like(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    Bytes b(n);
    for (auto& x : b) {
        unsigned r = rng() % 16;
        x = r < 3 ? 0xe8 : r < 5 ? 0xe9 : r < 8 ? 0x00 : r < 10 ? 0xff : uint8_t(rng());
    }
    return b;
}

Bytes mixed(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    Bytes b;
    b.reserve(n);
    while (b.size() < n) {
        size_t len = std::min<size_t>(n - b.size(), 1 + rng() % 70000);
        Bytes part;
        switch (rng() % 4) {
        case 0: part = random_bytes(len, rng()); break;
        case 1: part = text_like(len, rng()); break;
        case 2: part = x86_like(len, rng()); break;
        default: part.assign(len, uint8_t(rng())); break;
        }
        b.insert(b.end(), part.begin(), part.end());
    }
    return b;
}

Decoded decode(const Bytes& in, size_t capacity, xz::Mode mode) {
    // Exact-size heap copies: one byte past either buffer is an ASan report.
    std::unique_ptr<uint8_t[]> input(new uint8_t[in.size() ? in.size() : 1]);
    std::copy(in.begin(), in.end(), input.get());
    std::unique_ptr<uint8_t[]> output(new uint8_t[capacity ? capacity : 1]);
    auto decoder = std::make_unique<xz::Decoder>();
    auto r = decoder->decode({input.get(), in.size()}, {output.get(), capacity}, mode);
    Decoded d{};
    d.ok = r.has_value();
    if (!d.ok) {
        d.failure = r.error();
        return d;
    }
    d.result = *r;
    EXPECT_LE(r->out_size, capacity);
    EXPECT_LE(r->in_used, in.size());
    d.out.assign(output.get(), output.get() + std::min<size_t>(r->out_size, capacity));
    return d;
}

std::string describe(const Decoded& d) {
    if (d.ok) return "decoded " + std::to_string(d.result.out_size) + " bytes";
    return std::string(xz::error_name(d.failure.error)) + " at " + std::to_string(d.failure.offset);
}

void put_vli(Bytes& b, uint64_t v) {
    while (v >= 0x80) {
        b.push_back(uint8_t(v | 0x80));
        v >>= 7;
    }
    b.push_back(uint8_t(v));
}

void put_le32(Bytes& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

Bytes lzma2_stored(const Bytes& data) {
    Bytes out;
    for (size_t at = 0; at < data.size();) {
        size_t n = std::min<size_t>(data.size() - at, 0x10000);
        out.push_back(at == 0 ? 0x01 : 0x02);
        out.push_back(uint8_t((n - 1) >> 8));
        out.push_back(uint8_t(n - 1));
        out.insert(out.end(), data.begin() + long(at), data.begin() + long(at + n));
        at += n;
    }
    out.push_back(0x00);
    return out;
}

Bytes StreamBuilder::build() const {
    static const uint8_t magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
    static const size_t check_sizes[16] = {0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64};
    Bytes s(magic, magic + 6);
    Bytes flags = {stream_flags0, check};
    s.insert(s.end(), flags.begin(), flags.end());
    put_le32(s, crc::crc32(flags));
    std::vector<std::pair<uint64_t, uint64_t>> records;
    for (const Block& b : blocks) {
        Bytes h = {0, uint8_t((b.filter_count - 1) | b.extra_flags)};
        if (b.declare_compressed) {
            h[1] |= 0x40;
            put_vli(h, uint64_t(int64_t(b.lzma2.size()) + b.compressed_delta));
        }
        if (b.declare_uncompressed) {
            h[1] |= 0x80;
            put_vli(h, uint64_t(int64_t(b.uncompressed.size()) + b.uncompressed_delta));
        }
        if (b.filters.empty()) {
            Bytes lzma2 = {0x21, 0x01, 22};  // LZMA2, 8 MiB dictionary
            h.insert(h.end(), lzma2.begin(), lzma2.end());
        } else {
            h.insert(h.end(), b.filters.begin(), b.filters.end());
        }
        while ((h.size() + 4) % 4 != 0) h.push_back(b.header_padding_byte);
        for (size_t i = 0; i < 4 * b.extra_header_padding; ++i) h.push_back(b.header_padding_byte);
        h[0] = uint8_t((h.size() + 4) / 4 - 1);
        put_le32(h, crc::crc32(h));
        s.insert(s.end(), h.begin(), h.end());
        s.insert(s.end(), b.lzma2.begin(), b.lzma2.end());
        // Everything before is a multiple of four bytes long, so this pads the block's data.
        while (s.size() % 4 != 0) s.push_back(b.padding_byte);
        size_t cs = check_sizes[check & 0xf];
        if (cs == 4) put_le32(s, crc::crc32(b.uncompressed));
        if (cs == 8) {
            uint64_t c = crc::crc64(b.uncompressed);
            for (int i = 0; i < 8; ++i) s.push_back(uint8_t(c >> (8 * i)));
        }
        if (cs > 8) s.insert(s.end(), cs, 0);
        records.push_back({h.size() + b.lzma2.size() + cs, b.uncompressed.size()});
    }
    Bytes index = {0};
    put_vli(index, uint64_t(int64_t(records.size()) + record_count_delta));
    for (size_t i = 0; i < records.size(); ++i) {
        put_vli(index, uint64_t(int64_t(records[i].first) + (i == 0 ? unpadded_delta : 0)));
        put_vli(index, records[i].second);
    }
    while (index.size() % 4 != 0) index.push_back(0);
    put_le32(index, crc::crc32(index));
    s.insert(s.end(), index.begin(), index.end());
    Bytes footer;
    uint32_t backward = uint32_t(int64_t(index.size() / 4 - 1) + backward_size_delta);
    put_le32(footer, backward);
    footer.push_back(stream_flags0);
    footer.push_back(footer_check == 0xff ? check : footer_check);
    Bytes f;
    put_le32(f, crc::crc32(footer));
    f.insert(f.end(), footer.begin(), footer.end());
    f.push_back('Y');
    f.push_back('Z');
    s.insert(s.end(), f.begin(), f.end());
    return s;
}

}  // namespace xz_test
