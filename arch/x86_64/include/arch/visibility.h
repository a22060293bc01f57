/* Force-included into every hypervisor translation unit: with all symbols hidden, -fpie code
   reaches globals RIP-relative instead of through a GOT, which is what lets the image run at
   its upper-half address outside the +-2 GiB reach of absolute 32-bit addressing. */
#pragma GCC visibility push(hidden)
