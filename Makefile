# actlab — plain GNU Makefile.
#   make              build ./actlab and build/$(MODE)/libactlab.a
#   make check        install missing Debian packages, build, run all tests
#   make demo         install, build, a short Fashion-MNIST activation comparison
#   make bench        side-by-side benchmarks against PyTorch (bench/)
#   make docs         regenerate docs/activations.md from the catalog
#   make MPI=1        also ./actlab-mpi, the same CLI with Open MPI (mpicc):
#                     data-parallel training and distributed sweeps under
#                     mpirun/srun (docs/scale-out.md); `make actlab-mpi` alone
#                     builds just that. Only src/dist/mpi/ (and src/dist/
#                     launch.c with -DAL_MPI) is compiled by mpicc, into
#                     $(BUILD)-mpi; everything else is shared with ./actlab.
# Knobs: MODE=release|debug  SAN=1 (ASan+UBSan)  OMP=0  ARCH=native|x86-64-v3|...  MPI=1

MODE ?= release
SAN ?= 0
OMP ?= 1
ARCH ?= native
CC ?= gcc
MPI ?= 0
MPICC ?= mpicc

BUILD := build/$(MODE)$(if $(filter 1,$(SAN)),-san)$(if $(filter 0,$(OMP)),-noomp)

WARN := -Wall -Wextra -Wshadow -Wdouble-promotion -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation
# No fast-math: gradients and NaN handling depend on IEEE semantics.
MATH := -fno-math-errno -fno-trapping-math -ffp-contract=off
CFLAGS_release := -O3 -march=$(ARCH) -g
CFLAGS_debug := -O0 -g3 -march=$(ARCH)
CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(MATH) $(CFLAGS_$(MODE)) \
	-Iinclude -Isrc -MMD -MP
LDLIBS := -lopenblas -llapacke -linih -lsqlite3 -lstb -lz -lm -lpthread
ifeq ($(OMP),1)
CFLAGS += -fopenmp
LDFLAGS += -fopenmp
else
CFLAGS += -fopenmp-simd -Wno-unknown-pragmas
endif
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC := $(wildcard src/*/*.c)
CLI_SRC := $(wildcard tools/actlab/*.c)
TEST_SRC := $(wildcard tests/*.c)
MODELS := $(wildcard models/*.cfg)
ZOO_C := $(BUILD)/gen/zoo_data.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/zoo_data.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libactlab.a
CLI := $(BUILD)/actlab
TESTBIN := $(BUILD)/run_tests
# the MPI build: src/dist/mpi/ replaces the "built without MPI" stubs of
# src/dist/launch.c
MPI_BUILD := $(BUILD)-mpi
MPI_OBJ := $(patsubst %.c,$(MPI_BUILD)/%.o,$(wildcard src/dist/mpi/*.c) src/dist/launch.c)
MPI_LIB_OBJ := $(filter-out $(BUILD)/src/dist/launch.o,$(LIB_OBJ))
MPI_CLI := $(MPI_BUILD)/actlab

.PHONY: all check test demo bench docs format clean deps actlab-mpi
all: actlab $(if $(filter 1,$(MPI)),actlab-mpi)

actlab: $(CLI)
	@cp $(CLI) actlab.tmp && mv -f actlab.tmp actlab

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

actlab-mpi: $(MPI_CLI)
	@cp $(MPI_CLI) actlab-mpi.tmp && mv -f actlab-mpi.tmp actlab-mpi

$(MPI_CLI): $(CLI_OBJ) $(MPI_OBJ) $(MPI_LIB_OBJ)
	$(MPICC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(MPI_OBJ) $(MPI_LIB_OBJ) $(LDLIBS)

$(MPI_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS) -DAL_MPI -c $< -o $@

$(TESTBIN): $(TEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(LIB) $(LDLIBS)

$(ZOO_C): $(MODELS) scripts/embed-models.sh
	@mkdir -p $(dir $@)
	scripts/embed-models.sh $@ $(MODELS)

$(BUILD)/gen/zoo_data.o: $(ZOO_C)
	$(CC) $(CFLAGS) -c $< -o $@

# The element kernels run vmath with multiply-adds contracted into FMAs
# (20-35% faster transcendentals where the target has FMA); every vmath bound
# is re-checked under the same flag by tests/test_vmath_contract.c. Results
# of these kernels may therefore differ in the last bits between x86-64
# levels; everything else keeps -ffp-contract=off.
$(BUILD)/src/act/catalog.o $(BUILD)/tests/test_vmath_contract.o: CFLAGS += -ffp-contract=fast

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

deps:
	@scripts/install-deps.sh

# The test runner's last line is "N passed, N failed"; non-zero exit on failure.
# With mpicc and mpirun installed (scripts/install-deps.sh installs them) the
# MPI tests run ./actlab-mpi under `mpirun -np 2`; without them they are
# skipped with a note.
HAVE_MPICC = command -v $(MPICC) >/dev/null 2>&1
check: deps
	@$(MAKE) --no-print-directory -j$$(nproc) actlab $(TESTBIN)
	@if $(HAVE_MPICC); then $(MAKE) --no-print-directory -j$$(nproc) actlab-mpi; fi
	@ACTLAB_BIN=./actlab $(TESTBIN)

test: actlab $(TESTBIN)
	@if $(HAVE_MPICC); then $(MAKE) --no-print-directory actlab-mpi; fi
	@ACTLAB_BIN=./actlab $(TESTBIN) $(T)

# A short Fashion-MNIST comparison (experiments/demo-fmnist.ini) into
# results/demo.db, ending with its report table (HTML report next to it).
demo: deps
	@$(MAKE) --no-print-directory actlab
	./actlab sweep experiments/demo-fmnist.ini -j 2 --store results/demo.db
	./actlab report --store results/demo.db --format html --out results/demo.html
	./actlab report --store results/demo.db --format md

bench: deps actlab
	bench/run_core.sh

docs: actlab
	./actlab act list --markdown > docs/activations.md

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(TEST_SRC) $(wildcard include/actlab/*.h src/*/*.h tests/*.h)

clean:
	rm -rf build actlab actlab-mpi

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(MPI_OBJ:.o=.d)
