/* Atomic operations on 32-bit words of application memory (futexes). A fault at any
 * instruction between libos_user_atomic_begin and libos_user_atomic_end resumes at
 * libos_user_atomic_fault, which returns -EFAULT from whichever of these functions was
 * running (they keep no frame). See user_atomic.h. */
    .text
    .globl libos_user_atomic_begin, libos_user_atomic_end, libos_user_atomic_fault
    .hidden libos_user_atomic_begin, libos_user_atomic_end, libos_user_atomic_fault

/* long libos_user_cmpxchg32(uint32_t* word, uint32_t expected, uint32_t desired):
 * stores desired if *word == expected, as one locked step; returns the value found
 * (zero-extended), or -EFAULT */
    .globl libos_user_cmpxchg32
    .hidden libos_user_cmpxchg32
    .type libos_user_cmpxchg32, @function
libos_user_atomic_begin:
libos_user_cmpxchg32:
    mov %esi, %eax
    lock cmpxchg %edx, (%rdi)
    ret
libos_user_atomic_end:

libos_user_atomic_fault:
    mov $-14, %rax
    ret

    .section .note.GNU-stack, "", @progbits
