// Interrupt vector assignments. 0..31 are CPU exceptions; legacy PIC vectors are parked at
// 0x20..0x2f (all masked); device interrupts will get 0x30..0xdf; fixed system vectors sit at
// the top, highest priority last.
#pragma once

#include <stdint.h>

namespace vectors {

constexpr uint8_t PIC_BASE = 0x20;
// INT $0x80 from a PV guest (a ring-3 gate): never a device vector.
constexpr uint8_t GUEST_INT80 = 0x80;
constexpr uint8_t TIMER = 0xf0;
constexpr uint8_t CALL_FUNCTION = 0xf1;
constexpr uint8_t STOP = 0xf2;
constexpr uint8_t RESCHEDULE = 0xf3;
constexpr uint8_t TLB_FLUSH = 0xf4;
// Makes a CPU leave its guest so that the way back delivers newly pending events.
constexpr uint8_t EVENT_CHECK = 0xf5;
constexpr uint8_t APIC_ERROR = 0xfe;
constexpr uint8_t SPURIOUS = 0xff;

}  // namespace vectors
