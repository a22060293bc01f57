// Binds symbols::image_table() to the data tools/gensyms.py generates for the link.
#include "symbols.hpp"

extern "C" const uint64_t kestrel_symtab_count;
extern "C" const symbols::Entry kestrel_symtab_entries[];
extern "C" const char kestrel_symtab_strings[];

namespace symbols {

Table image_table() { return Table{kestrel_symtab_entries, kestrel_symtab_count, kestrel_symtab_strings}; }

}  // namespace symbols
