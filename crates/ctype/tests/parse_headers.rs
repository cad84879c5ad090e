//! Real header text: what `gcc -E` makes of glibc's headers (abridged), cdef'd whole,
//! then again (a header loaded twice must be a no-op).

use jitffi_ctype::*;

const GLIBC_SNIPPET: &str = r#"
# 1 "/usr/include/stdio.h" 1 3 4
# 27 "/usr/include/stdio.h" 3 4
typedef unsigned char __u_char;
typedef signed long int __int64_t;
typedef unsigned long int __uint64_t;
__extension__ typedef long long int __quad_t;
__extension__ typedef unsigned long long int __u_quad_t;
typedef long int __time_t;
typedef long int __syscall_slong_t;
typedef long int __off_t;
typedef long int __off64_t;
typedef struct { int __val[2]; } __fsid_t;
typedef __builtin_va_list __gnuc_va_list;
typedef __gnuc_va_list va_list;
struct timespec
{
  __time_t tv_sec;
  __syscall_slong_t tv_nsec;
};
typedef struct
{
  int __count;
  union
  {
    unsigned int __wch;
    char __wchb[4];
  } __value;
} __mbstate_t;
typedef struct _G_fpos_t
{
  __off_t __pos;
  __mbstate_t __state;
} __fpos_t;
struct _IO_FILE;
typedef struct _IO_FILE __FILE;
typedef struct _IO_FILE FILE;
struct _IO_marker;
struct _IO_codecvt;
typedef void _IO_lock_t;
struct _IO_FILE
{
  int _flags;
  char *_IO_read_ptr;
  struct _IO_marker *_markers;
  struct _IO_FILE *_chain;
  int _fileno;
  int _flags2;
  __off_t _old_offset;
  unsigned short _cur_column;
  signed char _vtable_offset;
  char _shortbuf[1];
  _IO_lock_t *_lock;
  __off64_t _offset;
  struct _IO_codecvt *_codecvt;
  void *_freeres_buf;
  size_t __pad5;
  int _mode;
  char _unused2[15 * sizeof (int) - 4 * sizeof (void *) - sizeof (size_t)];
};
extern FILE *stdin;
extern FILE *stdout;
extern int remove (const char *__filename) __attribute__ ((__nothrow__ , __leaf__));
extern int fclose (FILE *__stream);
extern FILE *fopen (const char *__restrict __filename,
      const char *__restrict __modes) ;
extern int printf (const char *__restrict __format, ...);
extern int fscanf (FILE *__restrict __stream,
     const char *__restrict __format, ...) ;
extern int fscanf (FILE *__restrict __stream, const char *__restrict __format, ...) __asm__ ("" "__isoc99_fscanf") ;
extern int vfprintf (FILE *__restrict __s, const char *__restrict __format,
       __gnuc_va_list __arg);
extern int snprintf (char *__restrict __s, size_t __maxlen,
       const char *__restrict __format, ...)
     __attribute__ ((__nothrow__)) __attribute__ ((__format__ (__printf__, 3, 4)));
extern int *__errno_location (void) __attribute__ ((__nothrow__ , __leaf__)) __attribute__ ((__const__));
typedef void (*__sighandler_t) (int);
extern __sighandler_t signal (int __sig, __sighandler_t __handler)
     __attribute__ ((__nothrow__ , __leaf__));
static __inline __uint64_t
__bswap_64 (__uint64_t __bsx)
{
  return __builtin_bswap64 (__bsx);
}
typedef union
{
  char __size[40];
  long int __align;
} pthread_mutexattr_t;
typedef struct __pthread_internal_list
{
  struct __pthread_internal_list *__prev;
  struct __pthread_internal_list *__next;
} __pthread_list_t;
struct __pthread_mutex_s
{
  int __lock;
  unsigned int __count;
  int __owner;
  unsigned int __nusers;
  int __kind;
  short __spins;
  short __elision;
  __pthread_list_t __list;
};
typedef union
{
  struct __pthread_mutex_s __data;
  char __size[40];
  long int __align;
} pthread_mutex_t;
typedef union
{
  __extension__ unsigned long long int __wseq;
  __extension__ struct
  {
    unsigned int __low;
    unsigned int __high;
  } __wseq32;
} __atomic_wide_counter;
enum
{
  _ISupper = ((0) < 8 ? ((1 << (0)) << 8) : ((1 << (0)) >> 8)),
  _ISlower = ((1) < 8 ? ((1 << (1)) << 8) : ((1 << (1)) >> 8)),
  _ISalpha = ((2) < 8 ? ((1 << (2)) << 8) : ((1 << (2)) >> 8)),
};
extern double strtod (const char *__restrict __nptr,
        char **__restrict __endptr)
     __attribute__ ((__nothrow__ , __leaf__)) __attribute__ ((__nonnull__ (1)));
extern _Float128 strtof128 (const char *__restrict __nptr, char **__restrict __endptr);
typedef struct
  {
    long long __max_align_ll __attribute__((__aligned__(__alignof__(long long))));
    long double __max_align_ld __attribute__((__aligned__(__alignof__(long double))));
  } max_align_t;
extern void *memcpy (void *__restrict __dest, const void *__restrict __src,
       size_t __n) __attribute__ ((__nothrow__ , __leaf__)) __attribute__ ((__nonnull__ (1, 2)));
struct stat
  {
    __time_t st_mtime_;
    struct timespec st_atim;
    __syscall_slong_t __glibc_reserved[3];
  };
extern int stat (const char *__restrict __file,
   struct stat *__restrict __buf) __attribute__ ((__nothrow__ , __leaf__)) __attribute__ ((__nonnull__ (1, 2)));
typedef int __sig_atomic_t;
#define EOF (-1)
#define BUFSIZ 8192
#define _IO_EOF_SEEN 0x0010
#define getc(_fp) _IO_getc (_fp)
"#;

#[test]
fn glibc_snippet_twice() {
    let mut t = TypeTable::new(Target::X86_64SysV);
    t.cdef(GLIBC_SNIPPET, &[]).unwrap();
    let count = (t.symbols().count(), t.tags().count());
    t.cdef(GLIBC_SNIPPET, &[]).unwrap();
    assert_eq!(
        (t.symbols().count(), t.tags().count()),
        count,
        "a header loaded twice changes nothing"
    );

    let file = t.tag("_IO_FILE").unwrap();
    assert_eq!(t.symbol("FILE"), Some(&Symbol::Typedef(file)));
    assert_eq!(
        t.size_of(file),
        Some(120),
        "gcc: sizeof of this abridged struct"
    );
    let timespec = t.tag("timespec").unwrap();
    assert_eq!(t.size_of(timespec), Some(16));
    let b = *t.builtins();
    assert_eq!(t.symbol("__quad_t"), Some(&Symbol::Typedef(b.i64)));
    match t.symbol("fscanf") {
        Some(Symbol::Func {
            asm_name: Some(name),
            ..
        }) => assert_eq!(&**name, "__isoc99_fscanf"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(t.symbol("printf"), Some(Symbol::Func { .. })));
    assert!(matches!(t.symbol("__bswap_64"), Some(Symbol::Func { .. })));
    assert!(matches!(t.symbol("stat"), Some(Symbol::Func { .. })));
    assert!(matches!(
        t.symbol("_ISalpha"),
        Some(Symbol::EnumConst { value: 1024, .. })
    ));
    assert!(matches!(
        t.symbol("EOF"),
        Some(Symbol::Const { value: -1, .. })
    ));
    assert!(matches!(
        t.symbol("BUFSIZ"),
        Some(Symbol::Const { value: 8192, .. })
    ));
    assert!(t.symbol("getc").is_none());
    let mutex = t.symbol("pthread_mutex_t").unwrap().type_id();
    assert_eq!(t.size_of(mutex), Some(40));
    let max_align = t.symbol("max_align_t").unwrap().type_id();
    assert_eq!(
        (t.size_of(max_align), t.align_of(max_align)),
        (Some(32), 16)
    );
}
