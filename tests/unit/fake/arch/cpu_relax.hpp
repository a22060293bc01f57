#pragma once

namespace arch {

// Tells the CPU we are spinning: saves power and lets a sibling hyperthread run.
inline void cpu_relax() { asm volatile("pause" ::: "memory"); }

}  // namespace arch
