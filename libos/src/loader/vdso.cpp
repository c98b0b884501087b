// The LibOS vDSO (placeholder until the vDSO image is built): none is mapped.
#include "program.h"

namespace carbyne::libos {

uint64_t vdso_map() { return 0; }

}  // namespace carbyne::libos
