/* Entry of carbyne-pal, the restorer of its signal handlers, and thread start-up. */
    .text
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi              /* argc, argv..., NULL, envp..., NULL, auxv */
    and $-16, %rsp
    call pal_start
    hlt

/* sa_restorer of every PAL signal handler: it must live in the PAL text, the region where
 * Syscall User Dispatch lets system calls through. */
    .globl pal_signal_restorer
    .type pal_signal_restorer, @function
pal_signal_restorer:
    mov $15, %eax               /* rt_sigreturn */
    syscall
    hlt

/* long pal_clone(flags, stack, parent_tid, child_tid, tls, start, tcb)
 * The child starts in start(tcb) on `stack` and never returns. */
    .globl pal_clone
    .type pal_clone, @function
pal_clone:
    mov 8(%rsp), %rax
    sub $16, %rsi
    mov %r9, 0(%rsi)
    mov %rax, 8(%rsi)
    mov %rcx, %r10
    mov $56, %eax               /* clone */
    syscall
    test %rax, %rax
    jnz 1f
    xor %ebp, %ebp
    pop %rax
    pop %rdi
    call *%rax
    hlt
1:  ret

/* void pal_switch_stack(void* stack_top, void (*fn)(void*), void* arg): continues on a
 * new stack; fn never returns. */
    .globl pal_switch_stack
    .type pal_switch_stack, @function
pal_switch_stack:
    mov %rdi, %rsp
    mov %rdx, %rdi
    xor %ebp, %ebp
    push $0
    jmp *%rsi

    .section .note.GNU-stack, "", @progbits
