/* test_vmath_contract.c — every vmath check again, compiled with
 * -ffp-contract=fast (see the Makefile) as src/act/catalog.c is: the element
 * kernels run vmath with multiply-adds fused into FMAs where the target has
 * them, and the ulp bounds, special values and vector/scalar identity must
 * hold for that code too. */
#define VMATH_SUFFIX _contract
#include "test_vmath.c"
