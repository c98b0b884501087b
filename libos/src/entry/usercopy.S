/* Copies to and from application memory. A fault at any instruction between
 * libos_usercopy_begin and libos_usercopy_end resumes at libos_usercopy_fault, which
 * returns -EFAULT from whichever of these functions was running (they keep no frame). */
    .text
    .globl libos_usercopy_begin, libos_usercopy_end, libos_usercopy_fault
    .hidden libos_usercopy_begin, libos_usercopy_end, libos_usercopy_fault

/* long libos_usercopy(void* dst, const void* src, size_t size): 0 or -EFAULT */
    .globl libos_usercopy
    .hidden libos_usercopy
    .type libos_usercopy, @function
libos_usercopy_begin:
libos_usercopy:
    mov %rdx, %rcx
    rep movsb
    xor %eax, %eax
    ret

/* long libos_userset(void* dst, int value, size_t size): 0 or -EFAULT */
    .globl libos_userset
    .hidden libos_userset
    .type libos_userset, @function
libos_userset:
    mov %rdx, %rcx
    mov %esi, %eax
    rep stosb
    xor %eax, %eax
    ret

/* long libos_userstr(char* dst, const char* src, size_t max): the string's length when a
 * NUL was copied within max bytes, max when none was, or -EFAULT */
    .globl libos_userstr
    .hidden libos_userstr
    .type libos_userstr, @function
libos_userstr:
    xor %eax, %eax
1:  cmp %rdx, %rax
    je 2f
    movb (%rsi,%rax), %cl
    movb %cl, (%rdi,%rax)
    test %cl, %cl
    je 2f
    inc %rax
    jmp 1b
2:  ret
libos_usercopy_end:

libos_usercopy_fault:
    mov $-14, %rax
    ret

    .section .note.GNU-stack, "", @progbits
