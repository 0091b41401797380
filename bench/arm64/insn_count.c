/* insn_count: a TCG plugin for qemu-user that counts the guest instructions a program executes.
 *
 * Debian's qemu-user 7.2 accepts -plugin but ships neither plugins nor the plugin header
 * (qemu-plugin.h), so the few declarations used here are written out below by hand. They match
 * QEMU 7.2's plugin ABI (QEMU_PLUGIN_VERSION 1): the exported qemu_plugin_version, the
 * qemu_plugin_install entry point, qemu_info_t, enum qemu_plugin_op (QEMU_PLUGIN_INLINE_ADD_U64 = 0)
 * and the five API functions called. Another QEMU version may need them changed.
 *
 * How it counts: at translation of each translation block (TB), it registers an inline u64 add of
 * the TB's instruction count, which the generated code performs every time the TB is entered.
 * So the total is the number of guest instructions of the TBs executed (a TB left early by an
 * exception is counted whole; this is negligible for ordinary programs).
 * The counter is one plain u64 shared by all vCPUs (threads in qemu-user) and the inline add is not
 * atomic: counts of multi-threaded guests can lose increments. Use it on single-threaded runs.
 *
 * Build:  cc -O2 -shared -fPIC bench/arm64/insn_count.c -o insn_count.so
 * Use:    qemu-aarch64 -L /usr/aarch64-linux-gnu -plugin ./insn_count.so[,out=FILE] PROGRAM ...
 * It prints "insns N" at exit through qemu_plugin_outs, that is into qemu's log, which shows it only
 * with -d plugin (on stderr, or in the -D file); or into FILE when out=FILE is given (overwritten).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- QEMU 7.2 plugin ABI, declared by hand (from the layout of qemu's include/qemu/qemu-plugin.h) */

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_VERSION 1

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

struct qemu_plugin_tb; /* opaque */

enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64 = 0,
};

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

/* ---- the plugin ------------------------------------------------------------------------------ */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t insn_total;
static char out_path[4096];

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insn_total,
                                             qemu_plugin_tb_n_insns(tb));
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    char line[64];
    snprintf(line, sizeof line, "insns %" PRIu64 "\n", insn_total);
    if (out_path[0]) {
        FILE *f = fopen(out_path, "w");
        if (f) {
            fputs(line, f);
            fclose(f);
            return;
        }
    }
    qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else {
            fprintf(stderr, "insn_count: unknown argument '%s' (expected out=FILE)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
