/* Assembly helpers of the PAL test object: a stack switch, a raw `syscall` whose register
 * state is observable, the syscall upcall trampoline, and faulting instructions at known
 * addresses for the exception checks. */

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

    .text

/* void pal_test_switch_stack(uint64_t stack_top, void (*fn)(void*), void* arg): continues
 * on another stack; fn never returns. */
    .globl pal_test_switch_stack
    .hidden pal_test_switch_stack
    .type pal_test_switch_stack, @function
pal_test_switch_stack:
    mov %rdi, %rsp
    mov %rdx, %rdi
    xor %ebp, %ebp
    push $0
    jmp *%rsi
    .size pal_test_switch_stack, . - pal_test_switch_stack

/* long pal_test_syscall(long nr, uint64_t* regs_after): runs `syscall` with rax = nr and
 * the argument and callee-saved registers holding the kRegMagic values of the C++ side
 * (rdi, rsi, rdx, r10, r8, r9, rbx, rbp, r12, r13, r14, r15), then stores those twelve
 * registers, as found after the instruction, into regs_after[0..11]. Returns rax. */
    .globl pal_test_syscall
    .hidden pal_test_syscall
    .type pal_test_syscall, @function
pal_test_syscall:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    push %rsi
    mov %rdi, %rax
    movabs $0x1111111111111101, %rdi
    movabs $0x1111111111111102, %rsi
    movabs $0x1111111111111103, %rdx
    movabs $0x1111111111111104, %r10
    movabs $0x1111111111111105, %r8
    movabs $0x1111111111111106, %r9
    movabs $0x2222222222222201, %rbx
    movabs $0x2222222222222202, %rbp
    movabs $0x2222222222222203, %r12
    movabs $0x2222222222222204, %r13
    movabs $0x2222222222222205, %r14
    movabs $0x2222222222222206, %r15
    .globl pal_test_syscall_insn
    .hidden pal_test_syscall_insn
pal_test_syscall_insn:
    syscall
    mov (%rsp), %rcx
    mov %rdi, 0(%rcx)
    mov %rsi, 8(%rcx)
    mov %rdx, 16(%rcx)
    mov %r10, 24(%rcx)
    mov %r8, 32(%rcx)
    mov %r9, 40(%rcx)
    mov %rbx, 48(%rcx)
    mov %rbp, 56(%rcx)
    mov %r12, 64(%rcx)
    mov %r13, 72(%rcx)
    mov %r14, 80(%rcx)
    mov %r15, 88(%rcx)
    pop %rsi
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .size pal_test_syscall, . - pal_test_syscall

/* long pal_test_raw_syscall3(long nr, long a, long b, long c): a plain host system call,
 * for the few the checks make themselves before interception is on. */
    .globl pal_test_raw_syscall3
    .hidden pal_test_raw_syscall3
    .type pal_test_raw_syscall3, @function
pal_test_raw_syscall3:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    syscall
    ret
    .size pal_test_raw_syscall3, . - pal_test_raw_syscall3

/* long pal_test_jump(uint64_t target, long nr, uint64_t pad, long a0, long a1, long a2):
 * jumps to `target` (a `syscall` instruction somewhere else, e.g. in the host vDSO) with
 * rax = nr, rdi = a0, rsi = a1, rdx = a2, and rsp and rbp pointing into `pad`, an array filled with the
 * address of pal_test_jump_landing. Whatever the code after the instruction pops or
 * returns to, it lands there (and so does an upcall that resumes there); the landing
 * restores the caller's stack and registers and returns rax. Not reentrant. */
    .globl pal_test_jump
    .hidden pal_test_jump
    .type pal_test_jump, @function
pal_test_jump:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, pal_test_jump_saved_rsp(%rip)
    mov %rdi, %r11
    mov %rsi, %rax
    mov %rdx, %rsp
    mov %rdx, %rbp
    mov %rcx, %rdi
    mov %r8, %rsi
    mov %r9, %rdx
    jmp *%r11
    .globl pal_test_jump_landing
    .hidden pal_test_jump_landing
pal_test_jump_landing:
    mov pal_test_jump_saved_rsp(%rip), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .size pal_test_jump, . - pal_test_jump

    .bss
    .balign 8
pal_test_jump_saved_rsp:
    .quad 0
    .text

/* The syscall upcall (PalSyscallUpcall): entered with %rdi = the saved registers and a
 * fake return address on the stack, like the LibOS's entry. The C++ side records the
 * call and sets the result; then every register is restored from the context and the
 * caller resumes after its `syscall` instruction, with %rcx and %r11 clobbered as the
 * instruction itself does. */
    .globl pal_test_syscall_upcall
    .hidden pal_test_syscall_upcall
    .type pal_test_syscall_upcall, @function
pal_test_syscall_upcall:
    cld
    push %rdi
    call pal_test_handle_syscall
    pop %r11
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
    mov RAX(%r11), %rax
    mov RSP(%r11), %rsp
    mov RIP(%r11), %rcx
    mov RFLAGS(%r11), %r11
    jmp *%rcx
    .size pal_test_syscall_upcall, . - pal_test_syscall_upcall

/* Faulting instructions for the exception checks. Each probe_* label marks the one
 * instruction that traps; the exception handler resumes at the matching *_done label. */

/* uint64_t pal_test_load(const uint64_t* addr): movq (%rdi), %rax is 3 bytes. */
    .globl pal_test_load
    .hidden pal_test_load
    .type pal_test_load, @function
pal_test_load:
    xor %eax, %eax
    .globl pal_test_load_insn
    .hidden pal_test_load_insn
pal_test_load_insn:
    movq (%rdi), %rax
    .globl pal_test_load_done
    .hidden pal_test_load_done
pal_test_load_done:
    ret
    .size pal_test_load, . - pal_test_load

/* void pal_test_store(uint64_t* addr, uint64_t value): movq %rsi, (%rdi) is 3 bytes. */
    .globl pal_test_store
    .hidden pal_test_store
    .type pal_test_store, @function
pal_test_store:
    .globl pal_test_store_insn
    .hidden pal_test_store_insn
pal_test_store_insn:
    movq %rsi, (%rdi)
    .globl pal_test_store_done
    .hidden pal_test_store_done
pal_test_store_done:
    ret
    .size pal_test_store, . - pal_test_store

/* void pal_test_ud2(void): an invalid opcode (2 bytes). */
    .globl pal_test_ud2
    .hidden pal_test_ud2
    .type pal_test_ud2, @function
pal_test_ud2:
    .globl pal_test_ud2_insn
    .hidden pal_test_ud2_insn
pal_test_ud2_insn:
    ud2
    .globl pal_test_ud2_done
    .hidden pal_test_ud2_done
pal_test_ud2_done:
    ret
    .size pal_test_ud2, . - pal_test_ud2

/* void pal_test_int3(void): a breakpoint; the trap reports rip after the instruction. */
    .globl pal_test_int3
    .hidden pal_test_int3
    .type pal_test_int3, @function
pal_test_int3:
    int3
    .globl pal_test_int3_done
    .hidden pal_test_int3_done
pal_test_int3_done:
    ret
    .size pal_test_int3, . - pal_test_int3

/* uint64_t pal_test_divide(uint64_t a, uint64_t b): a / b; b = 0 traps (divq is 3 bytes). */
    .globl pal_test_divide
    .hidden pal_test_divide
    .type pal_test_divide, @function
pal_test_divide:
    mov %rdi, %rax
    mov %rsi, %rcx
    xor %edx, %edx
    .globl pal_test_divide_insn
    .hidden pal_test_divide_insn
pal_test_divide_insn:
    divq %rcx
    .globl pal_test_divide_done
    .hidden pal_test_divide_done
pal_test_divide_done:
    ret
    .size pal_test_divide, . - pal_test_divide

    .section .note.GNU-stack, "", @progbits
