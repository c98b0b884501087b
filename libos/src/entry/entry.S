/* The LibOS side of the syscall path. The PAL's SIGSYS handler makes sigreturn land in
 * libos_syscall_entry with %rdi = the saved application registers (PalContext); the
 * dispatcher runs, and libos_return_to_app resumes the application directly. */

/* PalContext offsets (pal.h): r8 r9 r10 r11 r12 r13 r14 r15 rdi rsi rbp rbx rdx rax rcx rsp rip rflags */
#define R8 0
#define R9 8
#define R10 16
#define R11 24
#define R12 32
#define R13 40
#define R14 48
#define R15 56
#define RDI 64
#define RSI 72
#define RBP 80
#define RBX 88
#define RDX 96
#define RAX 104
#define RCX 112
#define RSP 120
#define RIP 128
#define RFLAGS 136

/* With %rdi = ctx: loads rflags and every register but %rax, %rcx, %rsp, %r11 from ctx;
 * leaves ctx in %r11. Both ways back to the application start with it. */
.macro RESTORE_FLAGS_AND_MOST_REGISTERS
    mov %rdi, %r11
    pushq RFLAGS(%r11)
    popfq
    mov R8(%r11), %r8
    mov R9(%r11), %r9
    mov R10(%r11), %r10
    mov R12(%r11), %r12
    mov R13(%r11), %r13
    mov R14(%r11), %r14
    mov R15(%r11), %r15
    mov RDI(%r11), %rdi
    mov RSI(%r11), %rsi
    mov RBP(%r11), %rbp
    mov RBX(%r11), %rbx
    mov RDX(%r11), %rdx
.endm

    .text
    .globl libos_syscall_entry
    .hidden libos_syscall_entry
    .type libos_syscall_entry, @function
libos_syscall_entry:
    cld
    push %rdi
    call libos_handle_syscall
    pop %rdi
    /* fall through */

/* void libos_return_to_app(PalContext* ctx): resumes as after a `syscall` instruction:
 * every register from ctx except %rcx (= rip) and %r11 (= rflags), which the instruction
 * clobbers anyway. Nothing is written to the application's stack. */
    .globl libos_return_to_app
    .hidden libos_return_to_app
    .type libos_return_to_app, @function
libos_return_to_app:
    RESTORE_FLAGS_AND_MOST_REGISTERS
    mov RAX(%r11), %rax
    mov RSP(%r11), %rsp
    mov RIP(%r11), %rcx
    mov RFLAGS(%r11), %r11
    jmp *%rcx

/* void libos_return_to_app_full(const PalContext* ctx): resumes with every register from
 * ctx, %rcx and %r11 included (rt_sigreturn). The caller has written ctx->rip at
 * ctx->rsp - 136, below the application's red zone; `ret $128` pops it and leaves %rsp at
 * ctx->rsp. */
    .globl libos_return_to_app_full
    .hidden libos_return_to_app_full
    .type libos_return_to_app_full, @function
libos_return_to_app_full:
    RESTORE_FLAGS_AND_MOST_REGISTERS
    mov RCX(%r11), %rcx
    mov RSP(%r11), %rax
    lea -136(%rax), %rsp
    mov RAX(%r11), %rax
    mov R11(%r11), %r11
    ret $128

    .section .note.GNU-stack, "", @progbits
