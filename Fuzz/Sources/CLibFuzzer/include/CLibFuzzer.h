// libFuzzer's driver entry (compiler-rt FuzzerInterface.h), linked by -sanitize=fuzzer.
// SwiftPM links every executable with `main` aliased to `<Target>_main`, so libFuzzer's own main()
// is never used: each target's @main calls this driver instead.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
