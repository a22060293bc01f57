// boot_domains::plan: which multiboot2 modules become which boot-time domains. dom0 takes
// the first module (and the second as its initrd unless that one is marked); further domains
// come from `kestrel:domU[,mem=SIZE][,vcpus=N]` markers, each optionally followed by a
// `kestrel:initrd` module; anything else, and every malformed marker, is an error naming the
// module.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "boot_domains.hpp"


namespace {

struct Plan {
    std::vector<std::string> strings;  // keep the module strings alive
    std::vector<mb2::Module> modules;
    BootDomainSpec out[boot_domains::MAX_DOMAINS + 4]{};

    explicit Plan(std::vector<std::string> s) : strings(std::move(s)) {
        for (size_t i = 0; i < strings.size(); ++i)
            modules.push_back(mb2::Module{Paddr(0x1000000 + i * 0x100000), Paddr(0x1000000 + i * 0x100000 + 0x1000),
                                          kstd::StringView(strings[i].data(), strings[i].size())});
    }
    kstd::Expected<size_t, kstd::ParseError> run() { return boot_domains::plan(modules.data(), modules.size(), out); }
};

std::string str(kstd::StringView s) { return std::string(s.data(), s.size()); }

TEST(BootDomains, NoModulesNoDomains) {
    Plan p({});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 0u);
}

TEST(BootDomains, FirstModuleIsDom0WithItsCommandLine) {
    Plan p({"root=/dev/xvda1 console=hvc0"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, 1u);
    EXPECT_TRUE(p.out[0].control);
    EXPECT_EQ(p.out[0].kernel_module, 0u);
    EXPECT_FALSE(p.out[0].has_initrd);
    EXPECT_EQ(str(p.out[0].cmdline), "root=/dev/xvda1 console=hvc0") << "a first word with '=' is not a path";
    EXPECT_EQ(p.out[0].mem_bytes, 0u) << "dom0's size comes from dom0_mem";
    EXPECT_EQ(p.out[0].vcpus, 0u);
}

TEST(BootDomains, LeadingPathWordIsSkipped) {
    Plan p({"/boot/vmlinuz-6.1 root=/dev/xvda1"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(str(p.out[0].cmdline), "root=/dev/xvda1");
}

TEST(BootDomains, LeadingBlanksAreSkipped) {
    Plan p({" \t quiet"});
    ASSERT_TRUE(p.run().has_value());
    EXPECT_EQ(str(p.out[0].cmdline), "quiet");
}

TEST(BootDomains, EmptyCommandLines) {
    Plan p({"", "/boot/initrd.img"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, 1u);
    EXPECT_EQ(str(p.out[0].cmdline), "");
    EXPECT_TRUE(p.out[0].has_initrd);
}

TEST(BootDomains, SecondUnmarkedModuleIsDom0sInitrd) {
    Plan p({"/boot/vmlinuz quiet", "/boot/initrd.img"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, 1u);
    EXPECT_TRUE(p.out[0].has_initrd);
    EXPECT_EQ(p.out[0].initrd_module, 1u);
}

TEST(BootDomains, DomUWithDefaults) {
    Plan p({"dom0", "kestrel:domU console=hvc0 init=/bin/sh"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, 2u);
    EXPECT_FALSE(p.out[0].has_initrd) << "a marked module is not dom0's initrd";
    const BootDomainSpec& d = p.out[1];
    EXPECT_FALSE(d.control);
    EXPECT_EQ(d.kernel_module, 1u);
    EXPECT_FALSE(d.has_initrd);
    EXPECT_EQ(d.mem_bytes, boot_domains::DEFAULT_DOMU_BYTES);
    EXPECT_EQ(d.mem_bytes, 32ull << 20);
    EXPECT_EQ(d.vcpus, 1u);
    EXPECT_EQ(str(d.cmdline), "console=hvc0 init=/bin/sh");
}

TEST(BootDomains, DomUOptions) {
    Plan p({"dom0", "kestrel:domU,mem=64M,vcpus=4 console=hvc0", "kestrel:domU,vcpus=2,mem=1G",
            "kestrel:domU,mem=4096"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, 4u);
    EXPECT_EQ(p.out[1].mem_bytes, 64ull << 20);
    EXPECT_EQ(p.out[1].vcpus, 4u);
    EXPECT_EQ(str(p.out[1].cmdline), "console=hvc0");
    EXPECT_EQ(p.out[2].mem_bytes, 1ull << 30);
    EXPECT_EQ(p.out[2].vcpus, 2u);
    EXPECT_EQ(str(p.out[2].cmdline), "");
    EXPECT_EQ(p.out[3].mem_bytes, 4096u) << "one page is the least";
    EXPECT_EQ(p.out[3].kernel_module, 3u);
}

TEST(BootDomains, VcpuLimits) {
    Plan ok({"dom0", "kestrel:domU,vcpus=32"});
    ASSERT_TRUE(ok.run().has_value());
    EXPECT_EQ(ok.out[1].vcpus, 32u);
    for (const char* bad : {"kestrel:domU,vcpus=0", "kestrel:domU,vcpus=33", "kestrel:domU,vcpus=",
                            "kestrel:domU,vcpus=-1", "kestrel:domU,vcpus=2x"}) {
        Plan p({"dom0", bad});
        auto r = p.run();
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().where, 1u) << bad;
    }
}

TEST(BootDomains, MemoryLimits) {
    for (const char* bad : {"kestrel:domU,mem=", "kestrel:domU,mem=4095", "kestrel:domU,mem=0", "kestrel:domU,mem=12Q",
                            "kestrel:domU,mem=99999999999999999999", "kestrel:domU,mem=17179869184T"}) {
        Plan p({"dom0", bad});
        auto r = p.run();
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().where, 1u) << bad;
    }
}

TEST(BootDomains, MalformedOptionListsAreErrors) {
    for (const char* bad : {"kestrel:domU,", "kestrel:domU,,mem=1M", "kestrel:domU,mem=1M,", "kestrel:domU,foo=1",
                            "kestrel:domU,MEM=1M", "kestrel:domU,mem=1M,vcpus=1,bar"}) {
        Plan p({"dom0", "kestrel:domU", bad});
        auto r = p.run();
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().where, 2u) << bad;
        EXPECT_NE(std::string(r.error().what).find("options"), std::string::npos) << r.error().what;
    }
}

TEST(BootDomains, DomUWithInitrd) {
    Plan p({"dom0", "dom0-initrd", "kestrel:domU a=1", "kestrel:initrd", "kestrel:domU b=2", "kestrel:domU c=3",
            "/boot/x kestrel:initrd"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, 4u);
    EXPECT_TRUE(p.out[0].has_initrd);
    EXPECT_EQ(p.out[0].initrd_module, 1u);
    EXPECT_EQ(p.out[1].kernel_module, 2u);
    EXPECT_TRUE(p.out[1].has_initrd);
    EXPECT_EQ(p.out[1].initrd_module, 3u);
    EXPECT_EQ(p.out[2].kernel_module, 4u);
    EXPECT_FALSE(p.out[2].has_initrd);
    EXPECT_EQ(p.out[3].kernel_module, 5u);
    EXPECT_TRUE(p.out[3].has_initrd) << "the marker may follow a path word";
    EXPECT_EQ(p.out[3].initrd_module, 6u);
}

TEST(BootDomains, BlanksAroundTheDomUCommandLine) {
    Plan p({"dom0", "kestrel:domU,vcpus=2 \t  console=hvc0  quiet"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(str(p.out[1].cmdline), "console=hvc0  quiet") << "inner blanks are the guest's business";
    EXPECT_EQ(p.out[1].vcpus, 2u);
}

TEST(BootDomains, OptionsAreCaseSensitiveAndTheLastOneWins) {
    Plan p({"dom0", "kestrel:domU,mem=8M,mem=16m,vcpus=3,vcpus=1"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(p.out[1].mem_bytes, 16ull << 20) << "size suffixes in either case";
    EXPECT_EQ(p.out[1].vcpus, 1u);
    Plan q({"dom0", "initrd", "Kestrel:domU"});
    EXPECT_FALSE(q.run().has_value()) << "the marker itself is case-sensitive";
}

TEST(BootDomains, PathWordBeforeTheDomUMarker) {
    Plan p({"dom0", "/boot/guest kestrel:domU,mem=8M console=hvc0"});
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, 2u);
    EXPECT_EQ(p.out[1].mem_bytes, 8ull << 20);
    EXPECT_EQ(str(p.out[1].cmdline), "console=hvc0");
}

TEST(BootDomains, MarkedFirstModuleIsAnError) {
    for (const char* first : {"kestrel:domU", "kestrel:domU,mem=64M x", "kestrel:initrd", "/boot/k kestrel:domU"}) {
        Plan p({first, "whatever"});
        auto r = p.run();
        ASSERT_FALSE(r.has_value()) << first;
        EXPECT_EQ(r.error().where, 0u);
    }
}

TEST(BootDomains, UnmarkedModuleAfterDom0sInitrdIsAnError) {
    Plan p({"dom0", "initrd", "stray module"});
    auto r = p.run();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().where, 2u);
}

TEST(BootDomains, InitrdWithoutItsDomainIsAnError) {
    // A kestrel:initrd right after dom0's kernel is not dom0's initrd and belongs to no domU.
    Plan p({"dom0", "kestrel:initrd"});
    auto r = p.run();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().where, 1u);
    Plan q({"dom0", "kestrel:domU", "kestrel:initrd", "kestrel:initrd"});
    auto s = q.run();
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().where, 3u) << "one initrd per domain";
}

TEST(BootDomains, MarkerMustBeAWholeWord) {
    // "kestrel:domUx" is not the marker: the module is an unmarked stray.
    Plan p({"dom0", "initrd", "kestrel:domUx"});
    auto r = p.run();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().where, 2u);
    Plan q({"dom0", "kestrel:domU", "kestrel:initrdx"});
    auto s = q.run();
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().where, 2u);
}

TEST(BootDomains, MarkerMustBeTheFirstArgument) {
    Plan p({"dom0", "initrd", "console=hvc0 kestrel:domU"});
    auto r = p.run();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().where, 2u);
}

TEST(BootDomains, AsManyDomainsAsModules) {
    std::vector<std::string> mods{"dom0"};
    for (size_t i = 1; i < boot_domains::MAX_DOMAINS; ++i) mods.push_back("kestrel:domU n=" + std::to_string(i));
    Plan p(mods);
    auto r = p.run();
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(*r, boot_domains::MAX_DOMAINS);
    EXPECT_EQ(str(p.out[boot_domains::MAX_DOMAINS - 1].cmdline), "n=" + std::to_string(boot_domains::MAX_DOMAINS - 1));
}

TEST(BootDomains, MoreDomainsThanTheLimitIsAnError) {
    std::vector<std::string> mods{"dom0"};
    for (size_t i = 1; i <= boot_domains::MAX_DOMAINS; ++i) mods.push_back("kestrel:domU");
    Plan p(mods);
    auto r = p.run();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().where, boot_domains::MAX_DOMAINS);
}

}  // namespace
