#include "pv_domain_build.hpp"

#include "log.hpp"

namespace pv_domain_build {
bool build(Domain&, const mb2::Module&, const mb2::Module*, kstd::StringView) {
    log::error("TEMPORARY: builder not wired");
    return false;
}
}  // namespace pv_domain_build
