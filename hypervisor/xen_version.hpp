// What xen_version reports. Kestrel implements the Xen 4.17 guest ABI and says so, so that a
// guest's version checks take the same paths as on the reference.
#pragma once

#include "kstd/string.hpp"

class Domain;

namespace xen_version {

constexpr unsigned MAJOR = 4, MINOR = 17;
constexpr const char* EXTRA = ".0-kestrel";  // at most 15 characters: xen_extraversion_t
constexpr const char* CHANGESET = "Kestrel 0.1";
constexpr const char* CAPABILITIES = "xen-3.0-x86_64";  // 64-bit PV guests only, so far

// XENFEAT_* bits of submap 0 for a PV domain, as Xen 4.17 answers one: vnode memory ops,
// MMU_PT_UPDATE_PRESERVE_AD, MMUEXT_CLEAR_PAGE/COPY_PAGE, grant-map available bits and
// direct-mapped always; pae_pgdir_above_4gb while VMASST_TYPE_pae_extended_cr3 is on; dom0
// for the control domain. Kestrel implements each of these.
uint32_t features(const Domain& d);

// The hypervisor's command line, for XENVER_commandline (set once at boot).
void set_command_line(kstd::StringView s);

}  // namespace xen_version
