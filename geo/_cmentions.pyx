# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=False
"""The geoparser's per-document work in compiled code (issue 5, figure 1).

``geo/mentions.py`` is the specification: readable Python that this module must
agree with exactly, mention for mention, score for score, reason for reason
(tests/test_cmentions.py compares the two on real, generated and hostile texts).
Where the Python version spends its time on per-character and per-candidate
work (the scan for runs of capitalised words, the context filters, scoring,
proximity), this module does the same steps on the text's own buffer and on
C arrays of the gazetteer's columns. Everything that reads a name alone rather
than the document (what a run of capitalised words yields, a name's facts, a
record's prior, the wording of a reason) is still computed by the Python
functions, once per name, and memoised on the gazetteer as before; so are the
rare branches (person-name cues, qualifiers, border phrases), which call the
same Python helpers and regular expressions.

Floating point: the same operations in the same order as the Python code, with
libm's functions (the extension is built with -ffp-contract=off and without the
compiler's own sin/cos/pow, see setup.py), so every score and distance is the
same float.
"""

from cpython.unicode cimport (
    PyUnicode_4BYTE_KIND,
    PyUnicode_DATA,
    PyUnicode_FromKindAndData,
    PyUnicode_GET_LENGTH,
    PyUnicode_KIND,
    PyUnicode_READ,
    PyUnicode_Substring,
    Py_UNICODE_ISALNUM,
    Py_UNICODE_ISALPHA,
    Py_UNICODE_ISDECIMAL,
    Py_UNICODE_ISLOWER,
    Py_UNICODE_ISSPACE,
    Py_UNICODE_ISTITLE,
    Py_UNICODE_ISUPPER,
)
cimport cython
from cpython.ref cimport PyObject, Py_XDECREF, Py_XINCREF
from libc.math cimport INFINITY, NAN, asin, cos, fmod, copysign, pow, sin, sqrt
from libc.stdlib cimport calloc, free, malloc, qsort, realloc
from libc.string cimport memcpy, memset, strlen

import builtins
import dataclasses

import numpy as np

from geo import gazetteer as gz
from geo import mentions as M
from geo.models import Mention, Place

cdef extern from *:
    """
    #define GEO_IS_ASCII(op) PyUnicode_IS_ASCII(op)
    #ifndef GEO_SOURCE_SHA256
    #define GEO_SOURCE_SHA256 ""
    #endif
    #include "structmember.h"
    /* Where a __slots__ member of object type lives in its instances, or -1
       if `descr` is not such a member. */
    static Py_ssize_t geo_slot_offset(PyObject *descr) {
        PyMemberDef *d;
        if (Py_TYPE(descr) != &PyMemberDescr_Type) return -1;
        d = ((PyMemberDescrObject *)descr)->d_member;
        if (d->type != T_OBJECT_EX || (d->flags & READONLY)) return -1;
        return d->offset;
    }
    /* Line styles from bit masks, one bit per character (see _style_counts).
       geo_ascii16 classifies 16 characters at once when all are ASCII. */
    #include <stdint.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    static inline int geo_ascii16_v(__m128i v, uint64_t *up, uint64_t *lo) {
        __m128i cap, low;
        if (_mm_movemask_epi8(v)) return 0;
        cap = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(64)),
                            _mm_cmplt_epi8(v, _mm_set1_epi8(91)));
        low = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(96)),
                            _mm_cmplt_epi8(v, _mm_set1_epi8(123)));
        *up = (uint64_t)(unsigned)_mm_movemask_epi8(cap);
        *lo = (uint64_t)(unsigned)_mm_movemask_epi8(low);
        return 1;
    }
    #endif
    static inline int geo_ascii16_scalar(const void *p, int width, uint64_t *up, uint64_t *lo) {
        uint64_t u = 0, l = 0;
        int k;
        for (k = 0; k < 16; k++) {
            uint32_t c = width == 1 ? ((const uint8_t *)p)[k]
                       : width == 2 ? ((const uint16_t *)p)[k] : ((const uint32_t *)p)[k];
            if (c >= 128) return 0;
            u |= (uint64_t)(c - 65u < 26u) << k;
            l |= (uint64_t)(c - 97u < 26u) << k;
        }
        *up = u;
        *lo = l;
        return 1;
    }
    /* Capitals and lower-case letters of the 16 characters at p (1, 2 or 4
       bytes each) as the low 16 bits of *up and *lo; 0 if one is not ASCII. */
    static inline int geo_ascii16(const void *p, int width, uint64_t *up, uint64_t *lo) {
    #if defined(__SSE2__)
        if (width == 1)
            return geo_ascii16_v(_mm_loadu_si128((const __m128i *)p), up, lo);
        if (width == 2)  /* saturated to bytes: anything above 127 stays so */
            return geo_ascii16_v(_mm_packus_epi16(_mm_loadu_si128((const __m128i *)p),
                                                  _mm_loadu_si128((const __m128i *)p + 1)),
                                 up, lo);
    #endif
        return geo_ascii16_scalar(p, width, up, lo);
    }
    static inline Py_ssize_t geo_ctz(uint64_t w) {
    #if defined(__GNUC__) || defined(__clang__)
        return (Py_ssize_t)__builtin_ctzll(w);
    #else
        Py_ssize_t k = 0;
        while (!(w & 1)) { w >>= 1; k++; }
        return k;
    #endif
    }
    static inline Py_ssize_t geo_popcount(uint64_t w) {
    #if defined(__GNUC__) || defined(__clang__)
        return (Py_ssize_t)__builtin_popcountll(w);
    #else
        Py_ssize_t k = 0;
        while (w) { w &= w - 1; k++; }
        return k;
    #endif
    }
    /* a + b + *carry over 64 bits, the carry out into *carry. */
    static inline uint64_t geo_add(uint64_t a, uint64_t b, uint64_t *carry) {
        uint64_t t = a + b, sum = t + *carry;
        *carry = (uint64_t)(t < a) | (uint64_t)(sum < t);
        return sum;
    }
    /* counts[0..2] of _style_counts from the masks of nw words (bits from n
       on all zero), every letter cased. Word by word of the masks, not run by
       run of letters: s4 marks the first letter of each run of four letters
       or more; adding s4 to the letters carries through each such run and
       lands just after it (a), adding it to the letters that are not
       lower-case lands at the same place (b) exactly when no letter of the
       run is lower-case, that is (all cased) when the run is upper-case. */
    static void geo_style_from_masks(const uint64_t *letter, const uint64_t *up,
                                     const uint64_t *lo, Py_ssize_t nw, Py_ssize_t *counts) {
        uint64_t prev_top = 0, carry_a = 0, carry_b = 0;
        Py_ssize_t k, words = 0, upper = 0, title = 0;
        for (k = 0; k < nw; k++) {
            uint64_t l = letter[k], next = k + 1 < nw ? letter[k + 1] : 0;
            uint64_t starts = l & ~((l << 1) | prev_top);
            uint64_t four = l & ((l >> 1) | (next << 63)) & ((l >> 2) | (next << 62))
                              & ((l >> 3) | (next << 61));
            uint64_t s4 = starts & four, not_lower = l & ~lo[k];
            uint64_t a = geo_add(l, s4, &carry_a) & ~l;
            uint64_t b = geo_add(not_lower, s4 & not_lower, &carry_b) & ~not_lower;
            words += geo_popcount(s4);
            title += geo_popcount(s4 & up[k]);
            upper += geo_popcount(a & b);
            prev_top = l >> 63;
        }
        upper += (Py_ssize_t)(carry_a & carry_b);  /* a run up to the last bit */
        counts[0] = words;
        counts[1] = upper;
        counts[2] = title;
    }

    /* The first position j >= i below n whose bit is `want`, or n. */
    static inline Py_ssize_t geo_next_bit(const uint64_t *m, Py_ssize_t i, Py_ssize_t n, int want) {
        while (i < n) {
            uint64_t w = m[i >> 6];
            if (!want) w = ~w;
            w >>= (i & 63);
            if (w) {
                Py_ssize_t j = i + geo_ctz(w);
                return j < n ? j : n;
            }
            i = (i | 63) + 1;
        }
        return n;
    }
    /* Whether a bit of [a, b) is set. */
    static inline int geo_any_bit(const uint64_t *m, Py_ssize_t a, Py_ssize_t b) {
        while (a < b) {
            uint64_t w = m[a >> 6] >> (a & 63);
            Py_ssize_t span = 64 - (a & 63);
            if (b - a < span) return (w & ((((uint64_t)1) << (b - a)) - 1)) != 0;
            if (w) return 1;
            a += span;
        }
        return 0;
    }

    /* The first position at or after p holding [A-Z\u0400-\u042f] (the
       capitals _is_up accepts), or -1: 16 or 8 characters per step. */
    static Py_ssize_t geo_next_cap(const void *data, int kind, Py_ssize_t p, Py_ssize_t n) {
    #if defined(__SSE2__)
        if (kind == PyUnicode_1BYTE_KIND) {
            const uint8_t *u = (const uint8_t *)data;
            for (; p + 16 <= n; p += 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(u + p));
                int m = _mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(64)),
                                                        _mm_cmplt_epi8(v, _mm_set1_epi8(91))));
                if (m) return p + geo_ctz((uint64_t)(unsigned)m);
            }
        } else if (kind == PyUnicode_2BYTE_KIND) {
            const uint16_t *u = (const uint16_t *)data;
            for (; p + 8 <= n; p += 8) {  /* signed: U+8000 and above compare below 0 */
                __m128i v = _mm_loadu_si128((const __m128i *)(u + p));
                __m128i latin = _mm_and_si128(_mm_cmpgt_epi16(v, _mm_set1_epi16(64)),
                                              _mm_cmplt_epi16(v, _mm_set1_epi16(91)));
                __m128i cyr = _mm_and_si128(_mm_cmpgt_epi16(v, _mm_set1_epi16(0x3FF)),
                                            _mm_cmplt_epi16(v, _mm_set1_epi16(0x430)));
                int m = _mm_movemask_epi8(_mm_or_si128(latin, cyr));  /* two bits a character */
                if (m) return p + (geo_ctz((uint64_t)(unsigned)m) >> 1);
            }
        }
    #endif
        for (; p < n; p++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, p);
            if (c - 65u < 26u || c - 0x400u < 0x30u) return p;
        }
        return -1;
    }

    /* Candidate positions for the lowercase scan (see _flagged), 16 at a
       time: bit i of the result for position p + i where an ASCII letter or
       digit follows a character that is neither (a word starts), or where one
       of the n_pairs two-character pairs (a0[k], a1[k]) starts. -1 when a
       character of u[p - 1 .. p + 16] is not ASCII (or without SSE2): the
       caller then takes the block character by character. Needs 1 <= p and
       p + 17 <= the text's length; width 1 or 2 bytes a character. */
    #if defined(__SSE2__)
    static inline __m128i geo_load16(const void *data, int width, Py_ssize_t p) {
        if (width == 1) return _mm_loadu_si128((const __m128i *)((const uint8_t *)data + p));
        return _mm_packus_epi16(_mm_loadu_si128((const __m128i *)((const uint16_t *)data + p)),
                                _mm_loadu_si128((const __m128i *)((const uint16_t *)data + p + 8)));
    }
    static inline __m128i geo_alnum16(__m128i v) {
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(47)),
                                      _mm_cmplt_epi8(v, _mm_set1_epi8(58)));
        __m128i folded = _mm_or_si128(v, _mm_set1_epi8(32));  /* A-Z -> a-z */
        __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8(96)),
                                       _mm_cmplt_epi8(folded, _mm_set1_epi8(123)));
        return _mm_or_si128(digit, letter);
    }
    #endif
    static inline int geo_scan_block(const void *data, int width, Py_ssize_t p,
                                     const uint8_t *a0, const uint8_t *a1, int n_pairs) {
    #if defined(__SSE2__)
        __m128i v = geo_load16(data, width, p), before = geo_load16(data, width, p - 1);
        __m128i after = geo_load16(data, width, p + 1), hits;
        int k;
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v, before), after))) return -1;
        hits = _mm_andnot_si128(geo_alnum16(before), geo_alnum16(v));
        for (k = 0; k < n_pairs; k++)
            hits = _mm_or_si128(hits, _mm_and_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)a0[k])),
                                                    _mm_cmpeq_epi8(after, _mm_set1_epi8((char)a1[k]))));
        return _mm_movemask_epi8(hits);
    #else
        (void)data; (void)width; (void)p; (void)a0; (void)a1; (void)n_pairs;
        return -1;
    #endif
    }

    /* Fill a slot of a freshly allocated instance (all slots NULL). */
    static inline void geo_put_slot(PyObject *obj, Py_ssize_t offset, PyObject *value) {
        PyObject **slot = (PyObject **)((char *)obj + offset);
        Py_INCREF(value);
        Py_XSETREF(*slot, value);
    }
    static PyObject *geo_alloc(PyObject *type) {
        PyTypeObject *t = (PyTypeObject *)type;
        return t->tp_alloc(t, 0);
    }

    """
    const char* GEO_SOURCE_SHA256
    bint GEO_IS_ASCII(object op)
    Py_ssize_t geo_slot_offset(object descr)
    Py_ssize_t _ctz "geo_ctz"(unsigned long long w) noexcept
    ctypedef unsigned long long uint64_t
    bint geo_ascii16(const void* p, int width, uint64_t* up, uint64_t* lo) noexcept
    Py_ssize_t geo_next_bit(const uint64_t* m, Py_ssize_t i, Py_ssize_t n, bint want) noexcept
    bint geo_any_bit(const uint64_t* m, Py_ssize_t a, Py_ssize_t b) noexcept
    void geo_style_from_masks(const uint64_t* letter, const uint64_t* up, const uint64_t* lo,
                              Py_ssize_t nw, Py_ssize_t* counts) noexcept
    Py_ssize_t geo_next_cap(const void* data, int kind, Py_ssize_t p, Py_ssize_t n) noexcept
    int geo_scan_block(const void* data, int width, Py_ssize_t p, const unsigned char* a0,
                       const unsigned char* a1, int n_pairs) noexcept
    void geo_put_slot(object obj, Py_ssize_t offset, object value)
    object geo_alloc(object type)

# The SHA-256 of this file when it was compiled (setup.py passes it), so that
# geo/mentions.py can tell a stale build from a current one.
SOURCE_SHA256 = GEO_SOURCE_SHA256.decode("ascii")

cdef object _py_sum = builtins.sum
cdef object _py_round = builtins.round
cdef object _py_sorted = builtins.sorted

cdef double _RAD = 3.141592653589793 / 180.0  # math.radians: x * (pi / 180)

# ---------------------------------------------------------------------------
# Text buffers


cdef struct Buf:
    int kind
    void* data
    Py_ssize_t n


cdef inline Buf _buf(str s):
    cdef Buf b
    b.kind = PyUnicode_KIND(s)
    b.data = PyUnicode_DATA(s)
    b.n = PyUnicode_GET_LENGTH(s)
    return b


cdef inline Py_UCS4 rd(const Buf* b, Py_ssize_t i) noexcept:
    return PyUnicode_READ(b.kind, b.data, i)


# The three widths of a str's characters (PEP 393), for the scans that read
# every character: each is compiled once per width, so the loop reads the
# buffer directly instead of dispatching on its kind at every character.
ctypedef fused uchar:
    unsigned char
    unsigned short
    unsigned int


# Character classes of U+0000..U+00FF (str methods of one character; a
# character above U+00FF is classified by the same C functions as needed).
cdef enum:
    CL_LETTER = 1  # [^\W\d_]
    CL_UPPER = 2  # isupper
    CL_LOWTITLE = 4  # islower or istitle
    CL_ALNUM = 8  # isalnum

cdef unsigned char _CLS[256]


cdef unsigned char _class_of(Py_UCS4 c) noexcept:
    cdef unsigned char f = 0
    if Py_UNICODE_ISALNUM(c):
        f |= CL_ALNUM
        if not Py_UNICODE_ISDECIMAL(c):
            f |= CL_LETTER
    if Py_UNICODE_ISUPPER(c):
        f |= CL_UPPER
    if Py_UNICODE_ISLOWER(c) or Py_UNICODE_ISTITLE(c):
        f |= CL_LOWTITLE
    return f


for _c in range(256):
    _CLS[_c] = _class_of(_c)


cdef inline bint _is_up(Py_UCS4 c) noexcept:
    """``[A-Z\u0400-\u042f]`` (geo/mentions.py ``_UP``)."""
    return (65 <= c <= 90) or (0x400 <= c <= 0x42F)


cdef inline bint _is_lo(Py_UCS4 c) noexcept:
    return (97 <= c <= 122) or (0x430 <= c <= 0x45F)


cdef inline bint _is_ul(Py_UCS4 c) noexcept:
    return _is_up(c) or _is_lo(c)


cdef inline bint _is_uld(Py_UCS4 c) noexcept:
    return _is_up(c) or _is_lo(c) or (48 <= c <= 57)


cdef inline bint _is_az(Py_UCS4 c) noexcept:
    return 65 <= c <= 90


cdef inline bint _is_word(Py_UCS4 c) noexcept:
    """The regular expressions' ``\\w``."""
    if c < 128:
        return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 95
    return Py_UNICODE_ISALNUM(c)


cdef inline bint _is_alnum(Py_UCS4 c) noexcept:
    """``str.isalnum`` of one character."""
    if c < 128:
        return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122)
    return Py_UNICODE_ISALNUM(c)


cdef inline bint _is_alpha(Py_UCS4 c) noexcept:
    if c < 128:
        return (65 <= c <= 90) or (97 <= c <= 122)
    return Py_UNICODE_ISALPHA(c)


cdef inline bint _is_letter(Py_UCS4 c) noexcept:
    """``[^\\W\\d_]``: a word character that is neither a decimal digit nor ``_``."""
    if c < 128:
        return (65 <= c <= 90) or (97 <= c <= 122)
    return Py_UNICODE_ISALNUM(c) and not Py_UNICODE_ISDECIMAL(c)


cdef inline bint _is_upper1(Py_UCS4 c) noexcept:
    """``str.isupper`` of one character."""
    if c < 128:
        return 65 <= c <= 90
    return Py_UNICODE_ISUPPER(c)


cdef inline bint _is_space(Py_UCS4 c) noexcept:
    if c < 128:
        return c == 32 or (9 <= c <= 13) or (28 <= c <= 31)
    return Py_UNICODE_ISSPACE(c)


cdef bint _isupper_span(const Buf* b, Py_ssize_t s, Py_ssize_t e) noexcept:
    """``str.isupper`` of ``b[s:e]``."""
    cdef bint cased = False
    cdef Py_UCS4 c
    cdef Py_ssize_t i
    for i in range(s, e):
        c = rd(b, i)
        if c < 128:
            if 97 <= c <= 122:
                return False
            if 65 <= c <= 90:
                cased = True
        elif Py_UNICODE_ISLOWER(c) or Py_UNICODE_ISTITLE(c):
            return False
        elif not cased and Py_UNICODE_ISUPPER(c):
            cased = True
    return cased


cdef bint _isalpha_span(const Buf* b, Py_ssize_t s, Py_ssize_t e) noexcept:
    """``str.isalpha`` of ``b[s:e]`` (False when empty)."""
    cdef Py_ssize_t i
    if e <= s:
        return False
    for i in range(s, e):
        if not _is_alpha(rd(b, i)):
            return False
    return True


cdef inline Py_ssize_t _find_nl(const Buf* b, Py_ssize_t s) noexcept:
    """``text.find("\\n", s)``."""
    cdef Py_ssize_t i
    for i in range(s, b.n):
        if rd(b, i) == 10:
            return i
    return -1


cdef inline Py_ssize_t _rfind_nl(const Buf* b, Py_ssize_t lo, Py_ssize_t hi) noexcept:
    """``text.rfind("\\n", lo, hi)``."""
    cdef Py_ssize_t i = hi - 1
    while i >= lo:
        if rd(b, i) == 10:
            return i
        i -= 1
    return -1


# ---------------------------------------------------------------------------
# Runs of capitalised words: the matches of geo/mentions.py ``_seq_re``


cdef Py_ssize_t _token_end(const Buf* b, Py_ssize_t p) noexcept:
    """End of ``_TOKEN`` matched at ``p``, or -1: ``(?:[A-Z]\\.){2,}`` first, else
    ``[UP][UP LO 0-9]*(?:'[UP LO]+)*``."""
    cdef Py_ssize_t n = b.n
    cdef Py_ssize_t q = p
    cdef int k = 0
    while q + 1 < n and _is_az(rd(b, q)) and rd(b, q + 1) == 46:
        k += 1
        q += 2
    if k >= 2:
        return q
    if p < n and _is_up(rd(b, p)):
        return _word_tail(b, p + 1)
    return -1


cdef inline Py_ssize_t _word_tail(const Buf* b, Py_ssize_t q) noexcept:
    """``[UP LO 0-9]*(?:'[UP LO]+)*`` from ``q``."""
    cdef Py_ssize_t n = b.n
    while q < n and _is_uld(rd(b, q)):
        q += 1
    while q + 1 < n and rd(b, q) == 39 and _is_ul(rd(b, q + 1)):
        q += 2
        while q < n and _is_ul(rd(b, q)):
            q += 1
    return q


cdef Py_ssize_t _first_token_end(const Buf* b, Py_ssize_t p) noexcept:
    """End of ``_FIRST_TOKEN`` at ``p`` (``b[p]`` is a capital not after ``\\w`` or
    a full stop): a dotted abbreviation (U.S.) if one starts here, else a word."""
    cdef Py_ssize_t n = b.n
    cdef Py_ssize_t q
    cdef int k = 0
    if _is_az(rd(b, p)) and p + 1 < n and rd(b, p + 1) == 46:
        q = p + 2
        while q + 1 < n and _is_az(rd(b, q)) and rd(b, q + 1) == 46:
            k += 1
            q += 2
        if k >= 1:
            return q
    return _word_tail(b, p + 1)


cdef class _Connectors:
    """The lower-case words allowed inside a name, as code points."""

    cdef Py_UCS4* chars
    cdef Py_ssize_t* offsets  # word k is chars[offsets[k]:offsets[k + 1]]
    cdef Py_ssize_t count
    # The words starting with the ASCII character c are lo[c]..hi[c] - 1 when
    # the words come grouped by first character (the connectors do; any other
    # first character: 0..0).
    cdef Py_ssize_t lo[128]
    cdef Py_ssize_t hi[128]

    def __cinit__(self, words):
        cdef list ws = [str(w) for w in words]
        cdef Py_ssize_t total = sum([len(w) for w in ws])
        cdef Py_ssize_t k, j, at = 0
        self.count = len(ws)
        for k in range(128):
            self.lo[k] = 0
            self.hi[k] = 0
        for k in range(self.count - 1, -1, -1):
            if ws[k] and ord(ws[k][0]) < 128:
                if self.hi[ord(ws[k][0])] == 0:
                    self.hi[ord(ws[k][0])] = k + 1
                self.lo[ord(ws[k][0])] = k
        self.chars = <Py_UCS4*>malloc((total + 1) * sizeof(Py_UCS4))
        self.offsets = <Py_ssize_t*>malloc((self.count + 1) * sizeof(Py_ssize_t))
        if self.chars == NULL or self.offsets == NULL:
            raise MemoryError()
        for k in range(self.count):
            self.offsets[k] = at
            for j in range(len(ws[k])):
                self.chars[at] = ord(ws[k][j])
                at += 1
        self.offsets[self.count] = at

    def __dealloc__(self):
        free(self.chars)
        free(self.offsets)


cdef Py_ssize_t _run_end(const Buf* b, Py_ssize_t p, _Connectors conns) noexcept:
    """End of the run of capitalised words starting at ``p``: the first token, then
    tokens joined by a space, a hyphen or a space, a connector and a space (tried
    in that order, as the regular expression's alternation does)."""
    cdef Py_ssize_t n = b.n
    cdef Py_ssize_t e = _first_token_end(b, p)
    cdef Py_ssize_t q, k, j, lo, hi, length
    cdef Py_UCS4 c
    cdef bint ok
    while e < n:
        c = rd(b, e)
        if c == 32:
            q = _token_end(b, e + 1)
            if q >= 0:
                e = q
                continue
            q = -1
            if e + 1 >= n or rd(b, e + 1) >= 128:
                return e
            c = rd(b, e + 1)
            for k in range(conns.lo[c], conns.hi[c]):
                lo = conns.offsets[k]
                hi = conns.offsets[k + 1]
                length = hi - lo
                if e + 2 + length > n:
                    continue
                ok = True
                for j in range(length):
                    if rd(b, e + 1 + j) != conns.chars[lo + j]:
                        ok = False
                        break
                if not ok or rd(b, e + 1 + length) != 32:
                    continue
                q = _token_end(b, e + 2 + length)
                if q >= 0:
                    break
            if q < 0:
                return e
            e = q
        elif c == 45:
            q = _token_end(b, e + 1)
            if q < 0:
                return e
            e = q
        else:
            return e
    return e


def scan_runs(str folded):
    """Every (start, end) of a run of capitalised words in ``folded``: the spans
    of ``geo.mentions._seq_re().finditer``."""
    cdef Buf b = _buf(folded)
    cdef list out = []
    cdef Py_ssize_t p = 0, e
    cdef _Connectors conns = _context(gz.load()).conns
    while p < b.n:
        p = _next_run_start(&b, p)
        if p < 0:
            break
        e = _run_end(&b, p, conns)
        out.append((p, e))
        p = e
    return out


cdef inline Py_ssize_t _next_run_start(const Buf* b, Py_ssize_t p) noexcept:
    """The first capital at or after ``p`` that follows neither ``\\w`` nor a full stop."""
    cdef Py_UCS4 prev
    cdef Py_ssize_t n = b.n
    while p < n:
        p = geo_next_cap(b.data, b.kind, p, n)  # a capital: _is_up
        if p <= 0:
            return p
        prev = rd(b, p - 1)
        if prev != 46 and not _is_word(prev):
            return p
        p += 1
    return -1


# ---------------------------------------------------------------------------
# Candidates and scoring outcomes

cdef enum:
    CTX_CAPITALISED = 0
    CTX_INITIAL = 1
    CTX_HEADLINE = 2
    CTX_CAPS = 3
    CTX_DATELINE = 4
    CTX_PHRASE = 5

cdef enum:
    STYLE_NONE = 0
    STYLE_CAPS = 1
    STYLE_HEADLINE = 2

_CONTEXT_NAMES = ("capitalised", "initial", "headline", "caps", "dateline", "phrase")


@cython.freelist(256)
@cython.no_gc  # holds no container that could lead back to it
cdef class Cand:
    """A place candidate of one document (geo/mentions.py ``_Cand``)."""

    cdef readonly Py_ssize_t start, end
    cdef readonly str key, surface, reason
    cdef readonly object idxs  # a tuple (names) or a list (curated phrases)
    cdef readonly bint main
    cdef int locative  # -1: not read yet
    cdef int context
    cdef readonly object place
    cdef int pkind  # the place's kind code, -1 without a place
    cdef double plon, plat
    cdef str pid
    cdef readonly double score
    cdef readonly tuple alternatives, notes
    cdef object qual  # _NO_QUAL until read, then None or (country, admin1)
    cdef Scored scored

    @property
    def context_name(self):
        return _CONTEXT_NAMES[self.context]

    def __repr__(self):
        return f"Cand({self.surface!r}, {self.start}, {self.end}, {self.context_name})"


cdef object _NO_QUAL = object()
cdef tuple _EMPTY = ()


cdef Cand _new_cand(Py_ssize_t start, Py_ssize_t end, str key, object idxs, str surface,
                    bint main, int context):
    cdef Cand c = Cand.__new__(Cand)
    c.start = start
    c.end = end
    c.key = key
    c.idxs = idxs
    c.surface = surface
    c.main = main
    c.locative = 0
    c.context = context
    c.place = None
    c.pkind = -1
    c.score = 0.0
    c.reason = ""
    c.alternatives = _EMPTY
    c.notes = _EMPTY
    c.qual = _NO_QUAL
    c.scored = None
    return c


cdef struct Entry:
    double neg_s
    long long neg_pop
    Py_ssize_t pos
    Py_ssize_t i
    double share
    bint qualified
    double d
    double bonus


cdef int _entry_cmp(const void* a, const void* b) noexcept nogil:
    """The order of the reference's sorted tuples (-score, -population, position):
    positions are unique, so nothing after them is compared."""
    cdef const Entry* x = <const Entry*>a
    cdef const Entry* y = <const Entry*>b
    if x.neg_s < y.neg_s:
        return -1
    if x.neg_s > y.neg_s:
        return 1
    if x.neg_pop < y.neg_pop:
        return -1
    if x.neg_pop > y.neg_pop:
        return 1
    if x.pos < y.pos:
        return -1
    if x.pos > y.pos:
        return 1
    return 0


@cython.freelist(64)
@cython.no_gc  # holds no container that could lead back to it
cdef class Scored:
    """The outcome of scoring one name in one document (geo/mentions.py ``_Scored``)."""

    cdef Entry* entries
    cdef Py_ssize_t n
    cdef readonly Py_ssize_t best_i
    cdef readonly object place
    cdef readonly double share, d, bonus, margin
    cdef readonly bint qualified
    cdef readonly object qual
    cdef readonly object idxs
    cdef readonly Py_ssize_t n_idxs
    cdef object text  # (reason, alternative ids) once written
    cdef double penalties[4]  # penalty -> the rounded score it gives
    cdef double scores[4]
    cdef int n_rounded

    def __dealloc__(self):
        free(self.entries)

    @property
    def scored(self):
        """The entries as the reference's tuples, for tests."""
        return [
            (e.neg_s, e.neg_pop, e.pos, e.i, e.share, bool(e.qualified), e.d, e.bonus)
            for e in self.entries[: self.n]
        ]


cdef Scored _new_scored(Entry* entries, Py_ssize_t n, object qual, object idxs, _Ctx x):
    """Takes ownership of ``entries`` (sorted, ``n`` >= 1)."""
    cdef Scored r = Scored.__new__(Scored)
    cdef Entry* top = &entries[0]
    cdef double best_s, other
    r.entries = entries
    r.n = n
    r.best_i = top.i
    r.place = x.place(top.i)
    r.share = top.share
    r.qualified = top.qualified
    r.qual = qual
    r.d = top.d
    r.bonus = top.bonus
    r.idxs = idxs
    r.n_idxs = len(idxs)
    if n > 1:
        best_s = -top.neg_s
        other = -entries[1].neg_s
        if 0.0 > other:  # max(-s1, 0.0): the first of equals
            other = 0.0
        r.margin = best_s / (best_s + other + 1e-9)
    else:
        r.margin = 1.0
    r.text = None
    r.n_rounded = 0
    return r


cdef struct ReasonSlot:
    unsigned long long h
    Py_ssize_t best_i, n_idxs, n_rivals
    Py_ssize_t rivals[5]
    double share, d
    bint has_d
    PyObject* qual  # owned; NULL for none
    PyObject* value  # (reason, alternative ids), owned; NULL: an empty slot


cdef enum:
    REASON_SLOTS = 1 << 13  # a power of two


cdef inline unsigned long long _mix(unsigned long long h, unsigned long long v) noexcept:
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2)
    return h


cdef inline unsigned long long _bits_of_double(double v) noexcept:
    cdef unsigned long long u
    memcpy(&u, &v, sizeof(u))
    return u


cdef tuple _explain(Scored r, _Ctx x, object g):
    """(reason, alternative ids), written once per outcome and memoised across
    articles by what it reads (geo/mentions.py ``_Scored.explain``): first in
    a direct-mapped table of those facts as C values, then in the reference's
    memo (keyed by a tuple of them)."""
    if r.text is not None:
        return r.text
    cdef bint qualified = r.qualified and r.qual is not None
    cdef Py_ssize_t k, top = min(r.n, 6)
    cdef bint has_d = r.bonus != 0.0
    cdef object qual = r.qual if qualified else None
    cdef unsigned long long h = <unsigned long long>r.best_i
    h = _mix(h, <unsigned long long>r.n_idxs)
    h = _mix(h, _bits_of_double(r.share))
    h = _mix(h, _bits_of_double(r.d) if has_d else 1)
    h = _mix(h, <unsigned long long>top)
    for k in range(1, top):
        h = _mix(h, <unsigned long long>r.entries[k].i)
    cdef ReasonSlot* slot = &x.reasons[h & (REASON_SLOTS - 1)]
    if (
        slot.value != NULL
        and slot.h == h
        and slot.best_i == r.best_i
        and slot.n_idxs == r.n_idxs
        and slot.n_rivals == top - 1
        and slot.share == r.share
        and slot.has_d == has_d
        and (not has_d or slot.d == r.d)
        and _same_rivals(slot, r, top)
        and _same_qual(slot.qual, qual)
    ):
        r.text = <tuple><object>slot.value
        return r.text
    cdef tuple rivals = tuple([r.entries[k].i for k in range(1, top)])
    cdef tuple memo_key = (
        r.best_i,
        r.share,
        qual,
        r.d if has_d else None,
        r.n_idxs,
        rivals,
    )
    cdef dict memo = g.reason_memo
    found = memo.get(memo_key)
    if found is None:
        found = M._reason_text(
            g, r.best_i, r.share, r.qual, qualified, r.d, r.bonus, r.n_idxs, rivals,
            several=r.n > 1,
        )
        if len(memo) >= M._REASON_MEMO_MAX:
            memo.clear()
        memo[memo_key] = found
    r.text = found
    Py_XINCREF(<PyObject*>found)
    Py_XDECREF(slot.value)
    slot.value = <PyObject*>found
    if qual is not None:
        Py_XINCREF(<PyObject*>qual)
    Py_XDECREF(slot.qual)
    slot.qual = <PyObject*>qual if qual is not None else NULL
    slot.h = h
    slot.best_i = r.best_i
    slot.n_idxs = r.n_idxs
    slot.n_rivals = top - 1
    slot.share = r.share
    slot.has_d = has_d
    slot.d = r.d
    for k in range(1, top):
        slot.rivals[k - 1] = r.entries[k].i
    return found


cdef inline bint _same_rivals(const ReasonSlot* slot, Scored r, Py_ssize_t top) noexcept:
    cdef Py_ssize_t k
    for k in range(1, top):
        if slot.rivals[k - 1] != r.entries[k].i:
            return False
    return True


cdef inline bint _same_qual(PyObject* stored, object qual) except -1:
    if stored == NULL:
        return qual is None
    if qual is None:
        return False
    return <object>stored is qual or <object>stored == qual


# ---------------------------------------------------------------------------
# What the module keeps per gazetteer


cdef void _fill_nan(double* values, Py_ssize_t n) noexcept:
    cdef Py_ssize_t k
    for k in range(n):
        values[k] = NAN


cdef struct RunSlot:
    unsigned long long h
    PyObject* key  # the run as written (a str), owned
    PyObject* value  # its outcome (geo/mentions.py _run_outcome), owned


cdef enum:
    RUN_SLOTS = 1 << 14  # a power of two


cdef class _Ctx:
    cdef object g
    # The outcomes of runs of capitalised words by their text, found without
    # making the run's str first: a direct-mapped table (a newer run replaces
    # an older one in its slot), beside the gazetteer's run_memo. The outcome
    # is a function of the run's text alone, so what the table holds changes
    # nothing but speed.
    cdef RunSlot* runs
    cdef ReasonSlot* reasons  # see _explain
    cdef double* priors  # see _prior
    # The rule words (prepositions, titles, given names, common words,
    # qualifiers, demonyms, suffixes, cues, connectors) that are ASCII, as an
    # open-addressing table of their W_* bits, for words read from the folded
    # text without making their str (see _word_bits).
    cdef unsigned long long* word_hash
    cdef int* word_bits
    cdef Py_ssize_t* word_at  # the word's characters: word_chars[word_at[k]:word_at[k + 1]]
    cdef int* word_slot  # slot -> entry + 1 (0: empty)
    cdef unsigned char* word_chars
    cdef Py_ssize_t word_mask
    cdef int empty_bits  # the bits of "" (no word)
    cdef tuple word_groups
    cdef object border_after, border_before, direction_before  # bound regex methods
    cdef double[::1] lon, lat
    cdef long long[::1] pop
    cdef unsigned char[::1] kind, flags
    cdef tuple countries, admin1, place_ids
    cdef dict places
    cdef frozenset titles, qualifiers, preps, given, suffixes, cues_after, cues_before
    cdef frozenset connectors, common
    cdef dict dem, directions
    cdef _Connectors conns
    cdef dict single_outcomes
    cdef int k_country, k_region, k_line, k_area, k_village, k_town, k_city
    # curated phrases by first character (ASCII) or in a dict (others)
    # The curated phrases as code points, sorted: phrase k is
    # phrase_chars[phrase_off[k]:phrase_off[k + 1]]; those starting with the
    # ASCII character c are phrases first_lo[c]..first_hi[c] - 1.
    cdef _Connectors phrases
    cdef list phrase_list
    cdef Py_ssize_t first_lo[128]
    cdef Py_ssize_t first_hi[128]
    cdef Py_ssize_t other_lo  # phrases from here on start outside ASCII
    # Where _scan_lower compares (see _flagged): scan_pairs[c0 << 8 | c1] for a
    # hot word or alias starting with the two characters c0 c1 (below U+0100;
    # an alias of one character flags every c1), first_wide[c0] for one whose
    # second character is wider, wide_first for one whose first is.
    cdef unsigned char* scan_pairs
    cdef unsigned char first_wide[256]
    cdef bint wide_first
    cdef Py_ssize_t n_hot
    # By first two characters p = c0 << 8 | c1 (both below U+0100): the aliases
    # starting so are pair_lo[p]..pair_hi[p] - 1 (SCAN_PAIR in scan_pairs[p]),
    # the first hot word starting so is hot_first[p] - 1 (SCAN_HOT), the next
    # one with the same two characters hot_next[w] - 1. SCAN_FIRST: an alias
    # of one character starts with c0; compare all those starting with c0.
    cdef unsigned short* pair_lo
    cdef unsigned short* pair_hi
    cdef unsigned char* hot_first
    cdef unsigned char hot_next[64]
    # The distinct first two characters of the hot words (hot_pair0[k],
    # hot_pair1[k]), and whether _flagged may look at word starts only in
    # ASCII blocks (block_scan: no alias starts with an ASCII character other
    # than a letter or digit).
    cdef unsigned char hot_pair0[64]
    cdef unsigned char hot_pair1[64]
    cdef int n_hot_pairs
    cdef bint block_scan
    # Folding (geo.gazetteer._FOLD) of the characters below U+10000, filled on
    # first use; 0xFFFFFFFF: not read yet.
    cdef unsigned int* fold_bmp
    cdef tuple hot_words
    cdef int hot_border, hot_boundar, hot_frontier
    cdef _Connectors hot_chars_of
    cdef Py_UCS4* hot_chars
    cdef Py_ssize_t* hot_off
    cdef object fold_table

    def __dealloc__(self):
        free(self.fold_bmp)
        free(self.scan_pairs)
        cdef Py_ssize_t k
        if self.runs != NULL:
            for k in range(RUN_SLOTS):
                Py_XDECREF(self.runs[k].key)
                Py_XDECREF(self.runs[k].value)
            free(self.runs)
        if self.reasons != NULL:
            for k in range(REASON_SLOTS):
                Py_XDECREF(self.reasons[k].qual)
                Py_XDECREF(self.reasons[k].value)
            free(self.reasons)
        free(self.priors)
        free(self.word_hash)
        free(self.word_bits)
        free(self.word_at)
        free(self.word_slot)
        free(self.word_chars)
        free(self.pair_lo)
        free(self.pair_hi)
        free(self.hot_first)
    cdef double penalty[6]  # by context (geo/mentions.py _PENALTY)

    def __cinit__(self, g):
        rules = M._rules()
        cols = g.columns
        self.g = g
        self.lon = np.asarray(cols.lon, dtype=np.float64)
        self.lat = np.asarray(cols.lat, dtype=np.float64)
        self.pop = np.asarray(cols.population, dtype=np.int64).astype(np.longlong)
        self.kind = np.asarray(cols.kind, dtype=np.uint8)
        self.flags = np.asarray(cols.flags, dtype=np.uint8)
        self.countries = cols.countries
        self.admin1 = cols.admin1
        self.place_ids = g.place_ids
        self.places = g._places
        self.titles = rules.titles
        self.qualifiers = rules.qualifiers
        self.preps = rules.prepositions
        self.given = rules.given_names
        self.suffixes = rules.suffixes
        self.cues_after = rules.cues_after
        self.cues_before = rules.cues_before
        self.connectors = rules.connectors
        self.common = gz.common_words()
        self.dem = gz.demonyms()
        self.directions = rules.directions
        # At most one connector can stand between two capitalised words at a
        # place (each is a whole word followed by a space), so their order does
        # not matter: grouped by first letter, as _run_end looks them up.
        self.conns = _Connectors(sorted(rules.connectors))
        self.single_outcomes = {}
        kinds = gz.KINDS
        self.k_country = kinds.index("country")
        self.k_region = kinds.index("region")
        self.k_line = kinds.index("line")
        self.k_area = kinds.index("area")
        self.k_village = kinds.index("village")
        self.k_town = kinds.index("town")
        self.k_city = kinds.index("city")
        self.phrase_list = sorted(g.curated_phrases)  # code point order
        self.phrases = _Connectors(self.phrase_list)
        for k in range(128):
            self.first_lo[k] = 0
            self.first_hi[k] = 0
        self.other_lo = len(self.phrase_list)
        if len(self.phrase_list) >= 65535:
            raise ValueError("more than 65,534 curated aliases: widen _Ctx.pair_lo")
        self.scan_pairs = <unsigned char*>malloc(65536)
        self.pair_lo = <unsigned short*>malloc(65536 * sizeof(unsigned short))
        self.pair_hi = <unsigned short*>malloc(65536 * sizeof(unsigned short))
        self.hot_first = <unsigned char*>malloc(65536)
        if (self.scan_pairs == NULL or self.pair_lo == NULL or self.pair_hi == NULL
                or self.hot_first == NULL):
            raise MemoryError()
        memset(self.scan_pairs, 0, 65536)
        memset(self.pair_lo, 0, 65536 * sizeof(unsigned short))
        memset(self.pair_hi, 0, 65536 * sizeof(unsigned short))
        memset(self.hot_first, 0, 65536)
        memset(self.hot_next, 0, sizeof(self.hot_next))
        memset(self.first_wide, 0, sizeof(self.first_wide))
        self.wide_first = False
        for k in range(len(self.phrase_list) - 1, -1, -1):
            phrase = self.phrase_list[k]
            first = ord(phrase[0])
            if first < 128:
                if self.first_hi[first] == 0:
                    self.first_hi[first] = k + 1
                self.first_lo[first] = k
            else:
                self.other_lo = k
            if first >= 256:
                self.wide_first = True
            elif len(phrase) == 1:
                for c1 in range(256):
                    self.scan_pairs[(first << 8) | c1] |= SCAN_FIRST
                self.first_wide[first] = 1
            elif ord(phrase[1]) >= 256:
                self.first_wide[first] = 1
            else:
                pair = (first << 8) | ord(phrase[1])
                self.scan_pairs[pair] |= SCAN_PAIR
                if self.pair_hi[pair] == 0:
                    self.pair_hi[pair] = k + 1
                self.pair_lo[pair] = k  # sorted: the aliases of a pair are adjacent
        self.word_groups = _word_groups(self)
        self.border_after = M._border_after().match
        self.border_before = M._border_before().search
        self.direction_before = M._direction_before().search
        self.empty_bits = _bits_of(self, "")
        _build_words(self)
        self.priors = <double*>malloc((len(self.lon) + 1) * sizeof(double))
        if self.priors == NULL:
            raise MemoryError()
        _fill_nan(self.priors, len(self.lon))
        self.runs = <RunSlot*>calloc(RUN_SLOTS, sizeof(RunSlot))
        self.reasons = <ReasonSlot*>calloc(REASON_SLOTS, sizeof(ReasonSlot))
        if self.runs == NULL or self.reasons == NULL:
            raise MemoryError()
        self.fold_bmp = <unsigned int*>malloc(65536 * sizeof(unsigned int))
        if self.fold_bmp == NULL:
            raise MemoryError()
        memset(self.fold_bmp, 0xFF, 65536 * sizeof(unsigned int))
        self.fold_table = gz._FOLD
        self.hot_words = tuple(M._HOT_LIST)
        self.hot_border = self.hot_words.index("border")
        self.hot_boundar = self.hot_words.index("boundar")
        self.hot_frontier = self.hot_words.index("frontier")
        self.hot_chars_of = _Connectors(self.hot_words)
        self.hot_chars = self.hot_chars_of.chars
        self.hot_off = self.hot_chars_of.offsets
        self.n_hot = len(self.hot_words)
        if self.n_hot >= 64:
            raise ValueError("64 hot words or more: widen _Ctx.hot_next")
        for w in range(self.n_hot - 1, -1, -1):
            word = self.hot_words[w]
            if len(word) < 4 or not word.isascii():
                raise ValueError(f"hot word {word!r}: four ASCII characters or more expected")
            pair = (ord(word[0]) << 8) | ord(word[1])
            self.scan_pairs[pair] |= SCAN_HOT
            self.hot_next[w] = self.hot_first[pair]
            self.hot_first[pair] = w + 1
        self.n_hot_pairs = 0
        for pair in sorted({(ord(word[0]), ord(word[1])) for word in self.hot_words}):
            self.hot_pair0[self.n_hot_pairs] = pair[0]
            self.hot_pair1[self.n_hot_pairs] = pair[1]
            self.n_hot_pairs += 1
        self.block_scan = all(  # an alias starting otherwise is never in an ASCII block
            phrase[0].isalnum() or not phrase[0].isascii() for phrase in self.phrase_list
        )
        for k in range(6):
            self.penalty[k] = M._PENALTY.get(_CONTEXT_NAMES[k], 1.0)

    cdef object place(self, Py_ssize_t i):
        found = self.places.get(i)
        if found is None:
            found = self.g.place(i)
        return found

    cdef int kind_code(self, object place):
        return gz.KINDS.index(place.kind)


cdef _Ctx _ctx = None


cdef _Ctx _context(object g):
    global _ctx
    if _ctx is None or _ctx.g is not g:
        _ctx = _Ctx(g)
    return _ctx


cdef str _fold(_Ctx x, str text):
    """geo.gazetteer.fold: an ASCII text as it is, any other through the folding
    table, one character for one."""
    if GEO_IS_ASCII(text):
        return text
    cdef Buf b = _buf(text)
    cdef Py_UCS4* out = <Py_UCS4*>malloc((b.n if b.n else 1) * sizeof(Py_UCS4))
    cdef unsigned int c, f
    cdef Py_ssize_t i
    cdef unsigned int* bmp = x.fold_bmp
    if out == NULL:
        raise MemoryError()
    try:
        for i in range(b.n):
            c = rd(&b, i)
            if c < 65536:
                f = bmp[c]
                if f == 0xFFFFFFFFu:
                    f = x.fold_table[<long>c]
                    bmp[c] = f
                out[i] = <Py_UCS4>f
            else:
                out[i] = <Py_UCS4>(<long>x.fold_table[<long>c])
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, b.n)
    finally:
        free(out)


cdef void _set_record_place(Cand c, Scored r, _Ctx x):
    c.place = r.place
    c.pkind = x.kind[r.best_i]
    c.plon = x.lon[r.best_i]
    c.plat = x.lat[r.best_i]
    c.pid = x.place_ids[r.best_i]


cdef void _set_built_place(Cand c, object place, _Ctx x):
    c.place = place
    c.pkind = x.kind_code(place)
    c.plon = place.lon
    c.plat = place.lat
    c.pid = place.place_id


# ---------------------------------------------------------------------------
# Pass 1: candidates


cdef inline unsigned long long _run_hash(const Buf* t, Py_ssize_t s, Py_ssize_t e) noexcept:
    """FNV-1a over the code points of ``t[s:e]``."""
    cdef unsigned long long h = 14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(s, e):
        h = (h ^ <unsigned long long>rd(t, i)) * 1099511628211ULL
    return h ^ (h >> 29)


cdef object _run_cached(_Ctx x, const Buf* t, Py_ssize_t s, Py_ssize_t e, unsigned long long h):
    """The outcome stored for the run ``t[s:e]``, or None."""
    cdef RunSlot* slot = &x.runs[h & (RUN_SLOTS - 1)]
    cdef Buf k
    cdef Py_ssize_t i
    if slot.key == NULL or slot.h != h:
        return None
    k = _buf(<str>slot.key)
    if k.n != e - s:
        return None
    for i in range(k.n):
        if rd(&k, i) != rd(t, s + i):
            return None
    return <object>slot.value


cdef void _run_store(_Ctx x, unsigned long long h, str key, object value) noexcept:
    cdef RunSlot* slot = &x.runs[h & (RUN_SLOTS - 1)]
    Py_XINCREF(<PyObject*>key)
    Py_XINCREF(<PyObject*>value)
    Py_XDECREF(slot.key)
    Py_XDECREF(slot.value)
    slot.h = h
    slot.key = <PyObject*>key
    slot.value = <PyObject*>value


cdef list _sequence_candidates(_Ctx x, str text, str folded, object g, dict votes):
    cdef Buf b = _buf(folded)
    cdef list out = []
    cdef dict memo = g.run_memo
    cdef dict long_runs = None
    cdef Py_ssize_t p = 0, s, e, rel, e_rel
    cdef Py_ssize_t memo_chars = M._RUN_MEMO_CHARS
    cdef Py_ssize_t memo_max = M._MEMO_MAX
    cdef object nothing = M._NOTHING
    cdef object run_outcome = M._run_outcome
    cdef _Connectors conns = x.conns
    cdef str raw
    cdef tuple found, matches, votes_of, m
    cdef Buf t = _buf(text)
    cdef unsigned long long h = 0
    cdef bint short_run
    while p < b.n:
        s = _next_run_start(&b, p)
        if s < 0:
            break
        e = _run_end(&b, s, conns)
        p = e
        short_run = e - s <= memo_chars
        if short_run:
            h = _run_hash(&t, s, e)
            found = _run_cached(x, &t, s, e, h)
            if found is not None:
                if found is not nothing:
                    _run_candidates(found, s, out, votes)
                continue
        raw = PyUnicode_Substring(text, s, e)
        found = memo.get(raw)
        if found is None:
            if not short_run:  # kept for this text only
                if long_runs is None:
                    long_runs = {}
                found = long_runs.get(raw)
                if found is None:
                    found = run_outcome(PyUnicode_Substring(folded, s, e), raw, g)
                    long_runs[raw] = found
            else:
                found = run_outcome(PyUnicode_Substring(folded, s, e), raw, g)
                if len(memo) >= memo_max:
                    memo.clear()
                memo[raw] = found
        if short_run:
            _run_store(x, h, raw, found)
        if found is not nothing:
            _run_candidates(found, s, out, votes)
    return out


cdef int _run_candidates(tuple found, Py_ssize_t s, list out, dict votes) except -1:
    """The candidates of one run's outcome at ``s``, and its demonym votes."""
    cdef tuple matches = found[0]
    cdef tuple votes_of = found[1]
    cdef tuple m
    for m in matches:
        out.append(_new_cand(s + <Py_ssize_t>m[0], s + <Py_ssize_t>m[1], m[2], m[3], m[5], m[4],
                             CTX_CAPITALISED))
    if votes_of:
        for iso in votes_of:
            votes[iso] = votes.get(iso, 0.0) + 0.5
    return 0


cdef enum:
    SCAN_PAIR = 1  # an alias of two characters or more starts with this pair
    SCAN_HOT = 2  # a hot word starts with this pair
    SCAN_FIRST = 4  # an alias of one character starts with the first of the pair


cdef unsigned char _ALNUM256[256]
for _c in range(256):
    _ALNUM256[_c] = chr(_c).isalnum()


cdef inline bint _alnum_at(const uchar* u, Py_ssize_t i) noexcept:
    cdef unsigned int c = u[i]
    return _ALNUM256[c] if c < 256 else Py_UNICODE_ISALNUM(<Py_UCS4>c)


cdef inline unsigned int _flag_at(const uchar* u, Py_ssize_t s, Py_ssize_t n,
                                  const unsigned char* pairs, const unsigned char* first_wide,
                                  unsigned int wide) noexcept:
    """The SCAN_* bits of position ``s`` (see _flagged)."""
    cdef unsigned int c0 = u[s], c1 = u[s + 1] if s + 1 < n else 0, f
    if uchar is cython.uchar:
        f = pairs[(c0 << 8) | c1]
    else:
        f = (pairs[((c0 & 0xFF) << 8) | (c1 & 0xFF)] if (c0 | c1) < 256
             else (SCAN_FIRST * first_wide[c0 & 0xFF] if c0 < 256 else wide))
    if s > 0 and _alnum_at(u, s - 1):
        f &= SCAN_HOT
    return f


cdef Py_ssize_t _flagged(const uchar* u, Py_ssize_t n, _Ctx x,
                        Py_ssize_t* out, unsigned char* flags) noexcept:
    """Where a hot word or a curated alias may start, into ``out``, and what
    may start there (SCAN_* bits) into ``flags``: the first two characters'
    entry in ``x.scan_pairs`` (both below U+0100; a NUL after the last
    character), else SCAN_FIRST if the first is flagged in ``first_wide`` (a
    narrow character followed by a wider one) or (``wide_first``) is wider.
    Aliases only where no letter or digit comes before; hot words anywhere.

    By blocks of 16 positions: where the block and its neighbours are ASCII,
    only the word starts and the hot words' first two characters are looked
    up (geo_scan_block; x.block_scan: no alias starts with an ASCII character
    that is not a letter or digit); elsewhere every position, without a branch on the text (each
    is written, and kept when flagged)."""
    cdef Py_ssize_t s, p = 0, stop, k = 0
    cdef unsigned int f, wide = SCAN_FIRST if x.wide_first else 0
    cdef int bits
    cdef const unsigned char* pairs = x.scan_pairs
    cdef const unsigned char* first_wide = x.first_wide
    cdef bint blocks = x.block_scan and sizeof(uchar) <= 2
    while p < n:
        stop = p + 16 if p + 16 < n else n
        bits = -1
        if blocks and p >= 1 and p + 17 <= n:
            bits = geo_scan_block(<const void*>u, sizeof(uchar), p, x.hot_pair0, x.hot_pair1,
                                  x.n_hot_pairs)
        if bits >= 0:
            while bits:
                s = p + _ctz(bits)
                bits &= bits - 1
                f = _flag_at(u, s, n, pairs, first_wide, wide)
                out[k] = s
                flags[k] = <unsigned char>f
                k += f != 0
        else:
            for s in range(p, stop):
                f = _flag_at(u, s, n, pairs, first_wide, wide)
                out[k] = s
                flags[k] = <unsigned char>f
                k += f != 0
        p = stop
    return k


cdef list _scan_lower(_Ctx x, str lower, _Hot hot):
    """The curated aliases standing as whole words in the lower-cased text (no
    letter or digit right before or after), as (start, end, alias) in order of
    start, which is what geo/mentions.py ``_phrase_hits`` finds, sorted; and
    into ``hot``, where each hot word starts (``_hot_starts``).

    Both are rare among the text's characters: a table of first two
    characters (:func:`_flagged`) picks the few positions to compare, and
    says which aliases and hot words start with those two characters."""
    cdef Buf b = _buf(lower)
    cdef list found = []
    cdef Py_ssize_t s, e, j, k, i, lo, hi, length, n = b.n, n_flagged, first_j
    cdef Py_UCS4 c, c1
    cdef unsigned int pair = 0
    cdef unsigned char fl
    cdef _Connectors ph = x.phrases
    cdef Py_UCS4* chars = ph.chars
    cdef Py_ssize_t* off = ph.offsets
    cdef int w
    cdef Py_ssize_t* at = <Py_ssize_t*>malloc((n if n else 1) * sizeof(Py_ssize_t))
    cdef unsigned char* flags = <unsigned char*>malloc(n if n else 1)
    if at == NULL or flags == NULL:
        free(at)
        free(flags)
        raise MemoryError()
    try:
        if b.kind == 1:
            n_flagged = _flagged(<const unsigned char*>b.data, n, x, at, flags)
        elif b.kind == 2:
            n_flagged = _flagged(<const unsigned short*>b.data, n, x, at, flags)
        else:
            n_flagged = _flagged(<const unsigned int*>b.data, n, x, at, flags)
        for i in range(n_flagged):
            s = at[i]
            fl = flags[i]
            c = rd(&b, s)
            if fl & (SCAN_HOT | SCAN_PAIR):  # both characters below U+0100
                pair = (<unsigned int>c << 8) | <unsigned int>(rd(&b, s + 1) if s + 1 < n else 0)
            if fl & SCAN_HOT and s + 3 < n:  # hot words are ASCII, four letters or more
                w = x.hot_first[pair]
                while w:
                    if _starts_with(&b, s, x.hot_chars, x.hot_off[w - 1], x.hot_off[w]):
                        _hot_add(hot, s, w - 1)
                        break
                    w = x.hot_next[w - 1]
            if fl & SCAN_FIRST:  # every alias starting with c (one-character ones too)
                if c < 128:
                    lo = x.first_lo[c]
                    hi = x.first_hi[c]
                else:
                    lo = x.other_lo
                    hi = ph.count
                first_j = 1
            elif fl & SCAN_PAIR:
                lo = x.pair_lo[pair]
                hi = x.pair_hi[pair]
                first_j = 2
            else:
                continue
            for k in range(lo, hi):
                if chars[off[k]] != c:
                    continue
                length = off[k + 1] - off[k]
                e = s + length
                if e > n:
                    continue
                for j in range(first_j, length):
                    if rd(&b, s + j) != chars[off[k] + j]:
                        break
                else:
                    if e == n or not _is_alnum(rd(&b, e)):
                        found.append((s, e, x.phrase_list[k]))
    finally:
        free(at)
        free(flags)
    return found


cdef inline bint _starts_with(const Buf* b, Py_ssize_t s, const Py_UCS4* chars,
                              Py_ssize_t lo, Py_ssize_t hi) noexcept:
    cdef Py_ssize_t j
    if s + (hi - lo) > b.n:
        return False
    for j in range(hi - lo):
        if rd(b, s + j) != chars[lo + j]:
            return False
    return True


def _phrase_order(t):
    return (t[0], -(t[1] - t[0]))


cdef list _curated_phrases(_Ctx x, str text, str lower, _Hot hot, object g):
    cdef list found = _scan_lower(x, lower, hot)
    cdef list out = []
    cdef Py_ssize_t last_end = -1, s, e
    cdef tuple t
    if len(found) > 1:
        found.sort(key=_phrase_order)
    curated_records = M._curated_records
    for t in found:
        s = t[0]
        e = t[1]
        if s < last_end:
            continue
        idxs = list(curated_records(g, t[2]))
        if idxs:
            out.append(_new_cand(s, e, t[2], idxs, PyUnicode_Substring(text, s, e), True,
                                 CTX_PHRASE))
            last_end = e
    return out


cdef list _without_overlaps(list cands, list winners):
    """``cands`` minus those overlapping any of ``winners`` (a sorted sweep)."""
    if not winners:
        return cands
    cdef Py_ssize_t nw = len(winners), k, lo, hi, mid, m
    cdef Cand w, c
    cdef list spans = []
    for w in winners:
        spans.append((w.start, w.end))
    spans.sort()
    cdef Py_ssize_t* starts = <Py_ssize_t*>malloc(nw * sizeof(Py_ssize_t))
    cdef Py_ssize_t* max_end = <Py_ssize_t*>malloc(nw * sizeof(Py_ssize_t))
    cdef list out = []
    if starts == NULL or max_end == NULL:
        free(starts)
        free(max_end)
        raise MemoryError()
    m = -1
    for k in range(nw):
        starts[k] = spans[k][0]
        if spans[k][1] > m:
            m = spans[k][1]
        max_end[k] = m
    for c in cands:
        lo = 0
        hi = nw
        while lo < hi:  # bisect_left(starts, c.end)
            mid = (lo + hi) // 2
            if starts[mid] < c.end:
                lo = mid + 1
            else:
                hi = mid
        k = lo - 1
        if k >= 0 and max_end[k] > c.start:
            continue
        out.append(c)
    free(starts)
    free(max_end)
    return out


# ---------------------------------------------------------------------------
# Pass 2: filters


cdef enum:
    STYLE_SPAN = 400  # characters of a line read for its style
    STYLE_WORDS = (STYLE_SPAN + 63) // 64


cdef void _style_counts(const uchar* u, Py_ssize_t s, Py_ssize_t e, Py_ssize_t* counts) noexcept:
    """Words of four letters or more in ``u[s:e]`` (``_WORD.findall``; at most
    STYLE_SPAN characters), those ``str.isupper`` (some capital, no lower-case
    or title-case letter), and those whose first letter is a capital.

    From three bit masks (letters, capitals, lower- or title-case), built 16
    characters at a time where they are ASCII (most are), then counted 64
    characters at a time (geo_style_from_masks) unless a letter has no case
    (a letter of such a script, or ª): then run by run of letters."""
    cdef uint64_t up[STYLE_WORDS]
    cdef uint64_t lo[STYLE_WORDS]
    cdef uint64_t letter[STYLE_WORDS]
    cdef uint64_t mu = 0, ml = 0, bit
    cdef Py_ssize_t n = e - s, i = 0, j, stop, a, b, p = 0, k
    cdef Py_ssize_t words = 0, upper = 0, title = 0
    cdef unsigned int c, f
    cdef uint64_t uncased = 0
    if n > STYLE_SPAN:
        n = STYLE_SPAN
    memset(up, 0, sizeof(up))
    memset(lo, 0, sizeof(lo))
    memset(letter, 0, sizeof(letter))
    while i < n:
        if i + 16 <= n and geo_ascii16(<const void*>(u + s + i), sizeof(uchar), &mu, &ml):
            up[i >> 6] |= mu << (i & 63)  # i is a multiple of 16: no bit crosses a word
            lo[i >> 6] |= ml << (i & 63)
            letter[i >> 6] |= (mu | ml) << (i & 63)
            i += 16
            continue
        stop = i + 16 if i + 16 <= n else n
        for j in range(i, stop):
            c = u[s + j]
            f = _CLS[c] if c < 256 else _class_of(<Py_UCS4>c)
            bit = (<uint64_t>1) << (j & 63)
            if f & CL_LETTER:
                letter[j >> 6] |= bit
            if f & CL_UPPER:
                up[j >> 6] |= bit
            if f & CL_LOWTITLE:
                lo[j >> 6] |= bit
            if (f & (CL_LETTER | CL_UPPER | CL_LOWTITLE)) == CL_LETTER:
                uncased = 1
        i = stop
    if not uncased:
        geo_style_from_masks(letter, up, lo, (n + 63) // 64, counts)
        return
    while True:  # each maximal run of letters, [a, b)
        a = geo_next_bit(letter, p, n, True)
        if a >= n:
            break
        b = geo_next_bit(letter, a, n, False)
        if b - a >= 4:
            words += 1
            title += (up[a >> 6] >> (a & 63)) & 1
            upper += geo_any_bit(up, a, b) and not geo_any_bit(lo, a, b)
        p = b
    counts[0] = words
    counts[1] = upper
    counts[2] = title


cdef void _counts_of(const Buf* t, Py_ssize_t s, Py_ssize_t e, Py_ssize_t* counts) noexcept:
    if t.kind == 1:
        _style_counts(<const unsigned char*>t.data, s, e, counts)
    elif t.kind == 2:
        _style_counts(<const unsigned short*>t.data, s, e, counts)
    else:
        _style_counts(<const unsigned int*>t.data, s, e, counts)


cdef int _line_style(const Buf* t, Py_ssize_t s, Py_ssize_t e) noexcept:
    """geo/mentions.py ``_line_style_words`` of ``text[s:min(e, s + 400)]``."""
    cdef Py_ssize_t counts[3]
    cdef Py_ssize_t n_words, upper, title
    _counts_of(t, s, e, counts)
    n_words = counts[0]
    upper = counts[1]
    title = counts[2]
    if n_words < 3:
        return STYLE_NONE
    if <double>upper / <double>n_words >= 0.6:
        return STYLE_CAPS
    if n_words >= 4 and <double>title / <double>n_words >= 0.75:
        return STYLE_HEADLINE
    return STYLE_NONE


cdef bint _line_start_blank(const Buf* t, Py_ssize_t start) noexcept:
    cdef Py_ssize_t i = start - 1
    cdef Py_UCS4 c
    while i >= 0:
        c = rd(t, i)
        if c == 10 or not _is_space(c):
            break
        i -= 1
    return i < 0 or rd(t, i) == 10


cdef bint _dateline_after(const Buf* t, Py_ssize_t end) noexcept:
    """``_DATELINE_AFTER.match(text, end, end + 40)``: blanks, then , ( \u2014 or -."""
    cdef Py_ssize_t lim = end + 40
    cdef Py_ssize_t i = end
    cdef Py_UCS4 c
    if lim > t.n:
        lim = t.n
    while i < lim and _is_space(rd(t, i)):
        i += 1
    if i >= lim:
        return False
    c = rd(t, i)
    return c == 44 or c == 40 or c == 0x2014 or c == 45


cdef inline bint _is_opener(Py_UCS4 c) noexcept:
    # "'([{\u201c\u2018\u00ab*#>-\u2014\u2013 \t
    return (c == 34 or c == 39 or c == 40 or c == 91 or c == 123 or c == 0x201C
            or c == 0x2018 or c == 0xAB or c == 42 or c == 35 or c == 62 or c == 45
            or c == 0x2014 or c == 0x2013 or c == 32 or c == 9)


cdef inline bint _is_sent_end(Py_UCS4 c) noexcept:
    # .!?:;\n\r\u2029
    return (c == 46 or c == 33 or c == 63 or c == 58 or c == 59 or c == 10 or c == 13
            or c == 0x2029)


cdef bint _is_initial(const Buf* t, Py_ssize_t start) noexcept:
    """geo/mentions.py ``_is_initial``: a sentence or line start."""
    cdef Py_ssize_t i = start - 1
    cdef Py_UCS4 c, p
    while i >= 0:
        c = rd(t, i)
        if not _is_opener(c):
            break
        if (c == 0x2014 or c == 0x2013 or c == 45) and i > 0 and rd(t, i - 1) == 32:
            return False
        i -= 1
    if i < 0:
        return True
    c = rd(t, i)
    if _is_sent_end(c):
        return not (
            c == 46 and i >= 1 and _is_upper1(rd(t, i - 1))
            and (i < 2 or not _is_alpha(rd(t, i - 2)))
        )
    if (c == 34 or c == 0x201D) and i >= 1:
        p = rd(t, i - 1)
        return p == 46 or p == 33 or p == 63
    return False


cdef void _prev_word(const Buf* t, Py_ssize_t start, Py_ssize_t* ws, Py_ssize_t* we) noexcept:
    """Bounds of geo/mentions.py ``_prev_word(text, start)``."""
    cdef Py_ssize_t i, j, lo
    if start >= 2 and rd(t, start - 1) == 32:
        lo = start - 48
        if lo < 0:
            lo = 0
        j = start - 2
        while j >= lo and rd(t, j) != 32:
            j -= 1
        if j >= lo and _isalpha_span(t, j + 1, start - 1):
            ws[0] = j + 1
            we[0] = start - 1
            return
    i = start - 1
    if i < 0 or not _is_space(rd(t, i)):
        ws[0] = start
        we[0] = start
        return
    while i >= 0 and _is_space(rd(t, i)):
        i -= 1
    if i >= 0 and rd(t, i) == 46:
        i -= 1
    j = i
    while j >= 0 and _is_alpha(rd(t, j)):
        j -= 1
    ws[0] = j + 1
    we[0] = i + 1


cdef tuple _facts(str key, object idxs, dict memo, object g):
    found = memo.get(key)
    if found is None:
        found = M._key_facts(key, idxs, g)
    return <tuple>found


cdef bint _is_place_word(str word, dict memo, object g) except -1:
    found = memo.get(word)
    if found is None:
        found = M._is_place_word(word, g)
    return found


cdef enum:
    W_PREP = 1
    W_OF = 2
    W_TITLE = 4
    W_GIVEN = 8
    W_COMMON = 16
    W_QUALIFIER = 32
    W_DEM = 64
    W_SUFFIX = 128
    W_CUE_AFTER = 256
    W_CUE_BEFORE = 512
    W_CONNECTOR = 1024


cdef tuple _word_groups(_Ctx x):
    """(W_* bit, the words that have it), every set _filter asks about a word."""
    return (
        (W_PREP, x.preps), (W_OF, ("of",)), (W_TITLE, x.titles), (W_GIVEN, x.given),
        (W_COMMON, x.common), (W_QUALIFIER, x.qualifiers), (W_DEM, x.dem),
        (W_SUFFIX, x.suffixes), (W_CUE_AFTER, x.cues_after), (W_CUE_BEFORE, x.cues_before),
        (W_CONNECTOR, x.connectors),
    )


cdef int _bits_of(_Ctx x, str key) except -1:
    """The W_* sets ``key`` (a name key) is in."""
    cdef int bits = 0
    for bit, words in x.word_groups:
        if key in words:
            bits |= bit
    return bits


cdef inline unsigned long long _fnv_step(unsigned long long h, unsigned int c) noexcept:
    return (h ^ c) * 1099511628211ULL


cdef int _build_words(_Ctx x) except -1:
    cdef set words = set()
    cdef str w
    for _, group in x.word_groups:
        for w in group:
            if w and w.isascii():
                words.add(w)
    cdef list entries = sorted(words)
    cdef Py_ssize_t n = len(entries), size = 16, k, j, at = 0, total = 0, slot
    cdef unsigned long long h
    while size < 2 * n + 16:
        size *= 2
    for w in entries:
        total += len(w)
    x.word_mask = size - 1
    x.word_hash = <unsigned long long*>malloc((n + 1) * sizeof(unsigned long long))
    x.word_bits = <int*>malloc((n + 1) * sizeof(int))
    x.word_at = <Py_ssize_t*>malloc((n + 1) * sizeof(Py_ssize_t))
    x.word_slot = <int*>calloc(size, sizeof(int))
    x.word_chars = <unsigned char*>malloc(total + 1)
    if (x.word_hash == NULL or x.word_bits == NULL or x.word_at == NULL
            or x.word_slot == NULL or x.word_chars == NULL):
        raise MemoryError()
    for k in range(n):
        w = entries[k]
        h = 14695981039346656037ULL
        x.word_at[k] = at
        for j in range(len(w)):
            x.word_chars[at] = ord(w[j])
            h = _fnv_step(h, ord(w[j]))
            at += 1
        x.word_hash[k] = h
        x.word_bits[k] = _bits_of(x, w)
        slot = h & x.word_mask
        while x.word_slot[slot]:
            slot = (slot + 1) & x.word_mask
        x.word_slot[slot] = k + 1
    x.word_at[n] = at
    return 0


cdef int _word_bits(_Ctx x, const Buf* f, Py_ssize_t s, Py_ssize_t e) noexcept:
    """_bits_of the name key of ``f[s:e]`` (a word of letters, digits, ' and -,
    whose key is its lower case when it is ASCII), or -1 if it is not ASCII."""
    cdef unsigned long long h = 14695981039346656037ULL
    cdef Py_ssize_t i, k, slot, at, length = e - s
    cdef unsigned int c
    if length <= 0:
        return x.empty_bits
    for i in range(s, e):
        c = rd(f, i)
        if c >= 128:
            return -1
        if 65 <= c <= 90:
            c += 32
        h = _fnv_step(h, c)
    slot = h & x.word_mask
    while True:
        k = x.word_slot[slot] - 1
        if k < 0:
            return 0
        if x.word_hash[k] == h and x.word_at[k + 1] - x.word_at[k] == length:
            at = x.word_at[k]
            for i in range(length):
                c = rd(f, s + i)
                if 65 <= c <= 90:
                    c += 32
                if x.word_chars[at + i] != c:
                    break
            else:
                return x.word_bits[k]
        slot = (slot + 1) & x.word_mask


cdef inline str _nxt_str(str nxt, str folded, Py_ssize_t end, Py_ssize_t nxt_e):
    """The next word as written (folded), made once."""
    return nxt if nxt is not None else PyUnicode_Substring(folded, end + 1, nxt_e)


cdef inline str _nxt_key(str nxt_key, str folded, Py_ssize_t end, Py_ssize_t nxt_e):
    """The next word's name key: its lower case, when it is ASCII (else made
    already, through name_key)."""
    return nxt_key if nxt_key is not None else PyUnicode_Substring(folded, end + 1, nxt_e).lower()


cdef list _filter(_Ctx x, str text, str folded, list cands, object g):
    cdef Buf t = _buf(text)
    cdef Buf f = _buf(folded)
    cdef dict facts_memo = g.key_facts
    cdef dict upper_memo = g.upper_names
    cdef dict place_words = g.place_words
    cdef list kept = []
    cdef set surnames = None
    cdef Py_ssize_t n = t.n, start, end, line_s = 0, line_e = -1, ws, we, q, lim
    cdef int style = STYLE_NONE, context
    cdef bint strong, is_dem, noise, is_given, all_common, upper, dateline, locative
    cdef bint adjacent_prev, evidence
    cdef tuple facts
    cdef str key, nxt, nxt_key, prev
    cdef Py_UCS4 ch
    cdef Cand c
    cdef bint has_nxt, nxt_up
    cdef Py_ssize_t nxt_e = 0
    cdef int nxt_bits, prev_bits
    name_key = gz.name_key
    apposition = M._PERSON_APPOSITION.match
    followed_by_qualifier = M._followed_by_qualifier
    for c in cands:
        key = c.key
        facts = _facts(key, c.idxs, facts_memo, g)
        strong = facts[0]
        is_dem = facts[1]
        noise = facts[2]
        is_given = facts[3]
        all_common = facts[4]
        if is_dem and not strong:
            continue
        if not strong and not c.main and noise:
            continue
        start = c.start
        end = c.end
        if start > line_e or start < line_s:
            if line_e < 0 or start < line_s:
                line_s = _rfind_nl(&t, 0, start) + 1
            else:
                line_s = _rfind_nl(&t, line_e, start) + 1
            line_e = _find_nl(&t, start)
            if line_e < 0:
                line_e = n
            style = _line_style(&t, line_s, line_e)
        upper = _isupper_span(&t, start, end)
        dateline = upper and _line_start_blank(&t, start) and _dateline_after(&t, end)
        if (
            not strong
            and upper
            and end - start <= 5
            and style != STYLE_CAPS
            and not dateline
        ):
            found = upper_memo.get(key)
            if found is None:
                found = M._names_all_upper(key, c.idxs, g)
            if not found:
                continue  # an acronym (NATO, EULEX) that spells a village name
        if dateline:
            c.context = CTX_DATELINE
        elif style == STYLE_CAPS:
            c.context = CTX_CAPS
        elif style == STYLE_HEADLINE:
            c.context = CTX_HEADLINE
        elif (
            not (start >= 2 and rd(&t, start - 1) == 32 and _is_alnum(rd(&t, start - 2)))
            and _is_initial(&t, start)
        ):
            c.context = CTX_INITIAL
        context = c.context
        # The next word, read only where it matters (geo/mentions.py _filter);
        # its str and key are made only when needed (nxt_bits: W_* of the key).
        has_nxt = False
        if (
            end < n
            and rd(&f, end) == 32
            and ((is_given and not strong) or (end + 1 < n and _is_upper1(rd(&f, end + 1))))
        ):
            lim = end + 40
            if lim > n:
                lim = n
            if end + 1 < lim and _is_letter(rd(&f, end + 1)):
                q = end + 2
                while q < lim:
                    ch = rd(&f, q)
                    if not (_is_word(ch) or ch == 39 or ch == 45):
                        break
                    q += 1
                has_nxt = True
                nxt_e = q
        nxt = None
        nxt_key = None
        nxt_bits = x.empty_bits
        nxt_up = False
        if has_nxt:
            nxt_up = _is_upper1(rd(&f, end + 1))
            nxt_bits = _word_bits(x, &f, end + 1, nxt_e)
            if nxt_bits < 0:  # not ASCII: its key through the gazetteer's name_key
                nxt = PyUnicode_Substring(folded, end + 1, nxt_e)
                nxt_key = name_key(nxt)
                nxt_bits = _bits_of(x, nxt_key)
        if strong:
            c.locative = -1
            locative = False
            prev_bits = x.empty_bits
        else:
            _prev_word(&f, start, &ws, &we)
            prev_bits = _word_bits(x, &f, ws, we)
            if prev_bits < 0:  # lower case for most sets, the name key for two
                prev = PyUnicode_Substring(folded, ws, we)
                prev_bits = (_bits_of(x, prev.lower()) & ~(W_GIVEN | W_DEM)) | (
                    _bits_of(x, name_key(prev)) & (W_GIVEN | W_DEM)
                )
            locative = (prev_bits & (W_PREP | W_OF)) == W_PREP
            c.locative = locative
            adjacent_prev = (
                start >= 1 and rd(&f, start - 1) == 32 and we > ws and _is_upper1(rd(&f, ws))
            )
            if prev_bits & W_TITLE or (
                adjacent_prev
                and (
                    prev_bits & W_GIVEN
                    or (
                        not (prev_bits & (W_COMMON | W_QUALIFIER | W_DEM))
                        and not _is_place_word(PyUnicode_Substring(folded, ws, we),
                                               place_words, g)
                        and not _is_initial(&t, start - (we - ws) - 1)
                    )
                )
            ):
                if surnames is None:
                    surnames = set()
                surnames.add(key)
                continue
            if is_given and context != CTX_CAPS and context != CTX_HEADLINE:
                if (
                    has_nxt
                    and nxt_up
                    and not (nxt_bits & (W_SUFFIX | W_DEM))
                    and (nxt_bits & W_GIVEN or not _is_place_word(
                        _nxt_str(nxt, folded, end, nxt_e), place_words, g))
                ):
                    if surnames is None:
                        surnames = set()
                    surnames.add(_nxt_key(nxt_key, folded, end, nxt_e))  # "Florence Nightingale"
                    continue
                if (
                    nxt_bits & W_CUE_AFTER
                    or prev_bits & W_CUE_BEFORE
                    or (not locative and apposition(folded, end, end + 8) is not None)
                ):
                    continue  # "Milan said", "said Florence, a teacher"; not "near Dori, the"
        if (
            has_nxt
            and nxt_up
            and context != CTX_CAPS
            and context != CTX_HEADLINE
            and not (nxt_bits & (W_COMMON | W_DEM | W_CONNECTOR))
            and not _is_place_word(_nxt_str(nxt, folded, end, nxt_e), place_words, g)
        ):
            # "Milan Radoicic", "Jordan Peterson": the place is a first name.
            if surnames is None:
                surnames = set()
            surnames.add(_nxt_key(nxt_key, folded, end, nxt_e))
            if not (strong and context == CTX_DATELINE):
                continue
        if not strong:
            if surnames is not None and key in surnames:
                continue
            if all_common:
                evidence = context == CTX_DATELINE or (context == CTX_CAPITALISED and locative)
                if not evidence and not (
                    end + 2 < n  # the ", [A-Z]" that _COUNTRY_AFTER starts with
                    and rd(&f, end) == 44
                    and rd(&f, end + 1) == 32
                    and _is_az(rd(&f, end + 2))
                    and followed_by_qualifier(folded, end, g)
                ):
                    continue
                c.notes = c.notes + ("common English word; accepted on context",)
        kept.append(c)
    if surnames is None:
        return kept
    return [
        c for c in kept
        if c.key not in surnames or _facts(c.key, c.idxs, facts_memo, g)[5]
    ]


# ---------------------------------------------------------------------------
# Pass 3: disambiguation


cdef dict _document_focus(_Ctx x, list cands, dict demonym_votes, object g):
    cdef dict votes = {}
    cdef dict memo = g.key_votes
    cdef Py_ssize_t memo_max = M._MEMO_MAX
    cdef Cand c
    vote_of = M._vote_of
    for c in cands:
        if c.context == CTX_PHRASE:
            iso = vote_of(c.idxs, g)
        else:
            iso = memo.get(c.key, _NO_QUAL)
            if iso is _NO_QUAL:
                iso = vote_of(c.idxs, g)
                if len(memo) >= memo_max:
                    memo.clear()
                memo[c.key] = iso
        if iso is not None:
            votes[iso] = votes.get(iso, 0.0) + 1.0
    for iso, v in demonym_votes.items():
        votes[iso] = votes.get(iso, 0.0) + v
    votes.pop("", None)
    return votes


cdef struct Anchor:
    double p2  # latitude in radians
    double cp2  # its cosine
    double x  # longitude in degrees


@cython.freelist(4)
cdef class _Anchors:
    """The confident places of a text (geo/mentions.py ``_anchors``) with the
    per-anchor half of the haversine, and the box of ``_reach``."""

    cdef Anchor* items
    cdef list keys
    cdef Py_ssize_t n
    cdef double lat_lo, lat_hi, lon_lo, lon_hi, cos_min

    def __dealloc__(self):
        free(self.items)


cdef _Anchors _make_anchors(list rows):
    """``rows``: (key, lon, lat) per anchor, in the reference's order."""
    cdef _Anchors a = _Anchors.__new__(_Anchors)
    cdef Py_ssize_t k, n = len(rows)
    cdef double x, y, p2, c
    a.n = n
    a.keys = [r[0] for r in rows]
    a.items = <Anchor*>malloc((n if n else 1) * sizeof(Anchor))
    if a.items == NULL:
        raise MemoryError()
    if n == 0:
        a.lat_lo = INFINITY
        a.lat_hi = -INFINITY
        a.lon_lo = 0.0
        a.lon_hi = 0.0
        a.cos_min = 0.0
        return a
    far = M._FAR_DEGREES
    for k in range(n):
        x = rows[k][1]
        y = rows[k][2]
        p2 = y * _RAD
        a.items[k].p2 = p2
        a.items[k].cp2 = cos(p2)
        a.items[k].x = x
        c = cos(y * _RAD)
        if k == 0:
            a.lat_lo = y
            a.lat_hi = y
            a.lon_lo = x
            a.lon_hi = x
            a.cos_min = c
        else:
            # min() and max() keep the first of equal values; with floats that
            # compare equal, which one is kept does not change the box.
            if y < a.lat_lo:
                a.lat_lo = y
            if y > a.lat_hi:
                a.lat_hi = y
            if x < a.lon_lo:
                a.lon_lo = x
            if x > a.lon_hi:
                a.lon_hi = x
            if c < a.cos_min:
                a.cos_min = c
    a.lat_lo = a.lat_lo - far
    a.lat_hi = a.lat_hi + far
    return a


cdef inline double _sq(double v) noexcept:
    return pow(v, 2.0)  # Python's ``v ** 2`` (not v * v: the same float only if pow rounds so)


cdef inline double _arc_km(double a) noexcept:
    cdef double r = sqrt(a)
    if not (r < 1.0):  # min(1.0, r)
        r = 1.0
    return 6371.0 * 2 * asin(r)


cdef double _nearest_km(double lon, double lat, str key, _Anchors a) except? -1.0:
    """geo/mentions.py ``_nearest_km``: the same arithmetic, the same float."""
    cdef double p1 = lat * _RAD
    cdef double cp1 = cos(p1)
    cdef double best = INFINITY, lat_term, av, limit, d, dmin
    cdef Py_ssize_t k, n_values = 0, n_near = 0
    cdef double* values = <double*>malloc((a.n if a.n else 1) * sizeof(double))
    cdef Anchor* it
    if values == NULL:
        raise MemoryError()
    for k in range(a.n):
        if <str>a.keys[k] == key:
            continue
        it = &a.items[k]
        lat_term = _sq(sin((it.p2 - p1) / 2))
        if lat_term > best * (1.0 + 1e-9):
            continue
        av = lat_term + cp1 * it.cp2 * _sq(sin(((it.x - lon) * _RAD) / 2))
        if av < best:
            best = av
        values[n_values] = av
        n_values += 1
    if n_values == 1:
        free(values)
        return _arc_km(best)
    if n_values == 0:
        free(values)
        return INFINITY
    limit = best * (1.0 + 1e-9)
    dmin = INFINITY
    for k in range(n_values):
        if values[k] <= limit:
            n_near += 1
            d = _arc_km(values[k])
            if n_near == 1 or d < dmin:  # min() keeps the first of equals
                dmin = d
    free(values)
    if n_near == 1:
        return _arc_km(best)
    return dmin


cdef inline double _pymod(double a, double b) noexcept:
    """Python's float ``a % b`` (the result takes the sign of ``b``)."""
    cdef double m = fmod(a, b)
    if m != 0.0:
        if (b < 0) != (m < 0):
            m += b
    else:
        m = copysign(0.0, b)
    return m


cdef bint _beyond_reach(double lon, double lat, _Anchors a, double far_a) noexcept:
    """geo/mentions.py ``_beyond_reach``."""
    cdef double g1, g2, gap, bound
    if lat < a.lat_lo or lat > a.lat_hi:
        return True
    if a.lon_lo <= lon <= a.lon_hi:
        return False
    g1 = _pymod(a.lon_lo - lon, 360.0)
    g2 = _pymod(lon - a.lon_hi, 360.0)
    gap = g2 if g2 < g1 else g1  # min() keeps the first of equals
    bound = cos(lat * _RAD) * a.cos_min * _sq(sin((gap * _RAD) / 2))
    return bound > far_a


cdef inline double _bonus_of(double d) noexcept:
    return 1.0 if d < 50 else 0.6 if d < 200 else 0.2 if d < 1000 else 0.0


cdef double _prior(_Ctx x, dict priors, Py_ssize_t i, object g) except? -1.0:
    """geo/mentions.py ``_prior`` (a function of the record alone), kept in a
    C array of every record's prior (NaN: not computed yet)."""
    cdef double p = x.priors[i]
    if p == p:
        return p
    found = priors.get(i)
    if found is None:
        found = M._prior(g, i)
    p = found
    x.priors[i] = p
    return p


cdef object _shortlist(_Ctx x, Cand c, dict focus, object g):
    """The records worth scoring (geo/mentions.py ``_shortlist``)."""
    cdef Py_ssize_t top = M._TOP_K, k, taken
    idxs = c.idxs
    if len(idxs) <= top:
        return idxs
    cdef dict ranked_memo = g.ranked
    ranked = ranked_memo.get(c.key)
    if ranked is None:
        ranked = M._shortlist(c, focus, g)  # fills the memo
        ranked = ranked_memo[c.key]
    cdef list keep = list(ranked[:top])
    taken = 0
    for k in range(top, len(ranked)):
        if taken >= top:
            break
        i = ranked[k]
        if focus.get(x.countries[i], 0) > 0:
            keep.append(i)
            taken += 1
    return keep


cdef Scored _score_candidates(_Ctx x, Cand c, object qual, dict focus, double total_votes,
                              _Anchors anchors, object g):
    cdef object idxs = c.idxs
    cdef Py_ssize_t i, pos, n
    cdef double share, s, d, bonus
    cdef bint qualified, has_anchors = anchors.n > 0
    cdef str iso
    cdef Entry* entries
    cdef int kind
    if len(idxs) == 1 and not has_anchors:
        i = idxs[0]
        iso = x.countries[i]
        share = focus.get(iso, 0.0) / total_votes
        memo_key = (i, share, qual)
        found = x.single_outcomes.get(memo_key)
        if found is None:
            qualified = (
                qual is not None and iso == qual[0] and (qual[1] == "" or qual[1] == x.admin1[i])
            )
            entries = <Entry*>malloc(sizeof(Entry))
            if entries == NULL:
                raise MemoryError()
            entries[0].neg_s = 0.0
            entries[0].neg_pop = 0
            entries[0].pos = 0
            entries[0].i = i
            entries[0].share = share
            entries[0].qualified = qualified
            entries[0].d = 0.0
            entries[0].bonus = 0.0
            found = _new_scored(entries, 1, qual, (i,), x)
            if len(x.single_outcomes) >= M._SINGLE_MEMO_MAX:
                x.single_outcomes.clear()
            x.single_outcomes[memo_key] = found
        return <Scored>found
    cdef dict priors = g.priors
    shortlist = _shortlist(x, c, focus, g)
    n = len(shortlist)
    entries = <Entry*>malloc((n if n else 1) * sizeof(Entry))
    if entries == NULL:
        raise MemoryError()
    try:
        for pos in range(n):
            i = shortlist[pos]
            s = _prior(x, priors, i, g)
            iso = x.countries[i]
            share = focus.get(iso, 0.0) / total_votes
            if share > 0:
                s += 1.5 * share
            qualified = (
                qual is not None and iso == qual[0] and (qual[1] == "" or qual[1] == x.admin1[i])
            )
            if qualified:
                s += 3.0 if not qual[1] else 4.5
            d = 0.0
            bonus = 0.0
            kind = x.kind[i]
            if has_anchors and kind != x.k_country and kind != x.k_region:
                d = _nearest_km(x.lon[i], x.lat[i], c.key, anchors)
                bonus = _bonus_of(d)
                if bonus:
                    s += bonus
            entries[pos].neg_s = -s
            entries[pos].neg_pop = -x.pop[i]
            entries[pos].pos = pos
            entries[pos].i = i
            entries[pos].share = share
            entries[pos].qualified = qualified
            entries[pos].d = d
            entries[pos].bonus = bonus
    except BaseException:
        free(entries)
        raise
    qsort(entries, n, sizeof(Entry), _entry_cmp)
    return _new_scored(entries, n, qual, idxs, x)


cdef Scored _rescore_near(_Ctx x, Cand c, Scored first, _Anchors anchors, double far_a):
    """geo/mentions.py ``_rescore_near``: the first pass's scores plus the
    proximity bonus."""
    cdef Py_ssize_t k, n = first.n, i
    cdef Entry* entries = <Entry*>malloc(n * sizeof(Entry))
    cdef Entry* e
    cdef double lon, lat, d, bonus
    cdef int kind
    if entries == NULL:
        raise MemoryError()
    try:
        for k in range(n):
            entries[k] = first.entries[k]
            e = &entries[k]
            i = e.i
            kind = x.kind[i]
            if kind == x.k_country or kind == x.k_region:
                continue
            lon = x.lon[i]
            lat = x.lat[i]
            if (
                lat < anchors.lat_lo
                or lat > anchors.lat_hi
                or (not (anchors.lon_lo <= lon <= anchors.lon_hi)
                    and _beyond_reach(lon, lat, anchors, far_a))
            ):
                e.d = INFINITY
                e.bonus = 0.0
                continue
            d = _nearest_km(lon, lat, c.key, anchors)
            bonus = _bonus_of(d)
            if bonus:
                e.neg_s = -(-e.neg_s + bonus)
            e.d = d
            e.bonus = bonus
    except BaseException:
        free(entries)
        raise
    qsort(entries, n, sizeof(Entry), _entry_cmp)
    return _new_scored(entries, n, first.qual, first.idxs, x)


cdef double _round3(double value, dict memo, Py_ssize_t memo_max) except? -1.0:
    """``round(value, 3)``, memoised (geo/mentions.py ``_round3``)."""
    if value == 0.0:
        return _py_round(value, 3)
    found = memo.get(value)
    if found is None:
        if len(memo) >= memo_max:
            memo.clear()
        found = _py_round(value, 3)
        memo[value] = found
    return found


cdef double _rounded_score(Scored r, double penalty, dict rounded,
                           Py_ssize_t memo_max) except? -1.0:
    """``_round3(min(1.0, margin * penalty))``, kept on the outcome for the few
    penalties there are (the reference's ``rounded`` dict)."""
    cdef int k
    cdef double v
    for k in range(r.n_rounded):
        if r.penalties[k] == penalty:
            return r.scores[k]
    v = r.margin * penalty
    if not (v < 1.0):  # min(1.0, v)
        v = 1.0
    v = _round3(v, rounded, memo_max)
    if r.n_rounded < 4:
        r.penalties[r.n_rounded] = penalty
        r.scores[r.n_rounded] = v
        r.n_rounded += 1
    return v


cdef inline Py_ssize_t _spaces(const Buf* f, Py_ssize_t p, Py_ssize_t lim) noexcept:
    """End of the ``\\s*`` at ``p``, looking no further than ``lim``."""
    while p < lim and _is_space(rd(f, p)):
        p += 1
    return p


cdef inline bint _ascii_at(const Buf* f, Py_ssize_t p, Py_ssize_t lim, const char* word) noexcept:
    cdef Py_ssize_t j = 0
    while word[j]:
        if p + j >= lim or rd(f, p + j) != <Py_UCS4>word[j]:
            return False
        j += 1
    return True


cdef const char* _DIRECTIONS[5]
_DIRECTIONS[0] = "north"
_DIRECTIONS[1] = "south"
_DIRECTIONS[2] = "east"
_DIRECTIONS[3] = "west"
_DIRECTIONS[4] = "central"


cdef inline bint _word_or_dot(Py_UCS4 c) noexcept:
    return _is_word(c) or c == 46


cdef Py_ssize_t _qualifier_span(const Buf* f, Py_ssize_t end, Py_ssize_t* name_end) noexcept:
    """Start of the name geo/mentions.py ``_QUALIFIER`` captures when matched at
    ``end`` with an end position of ``end + 60`` (its end in ``name_end``), or
    -1 if it does not match. The pattern needs no backtracking to decide: its
    optional parts are lower-case words and the name starts with a capital."""
    cdef Py_ssize_t lim = end + 60, p, q, r, d, k
    if lim > f.n:
        lim = f.n
    if end >= lim or rd(f, end) != 44:  # ","
        return -1
    p = _spaces(f, end + 1, lim)
    if p == end + 1:
        return -1
    if _ascii_at(f, p, lim, b"in"):  # (?:in\s+)?
        q = _spaces(f, p + 2, lim)
        if q > p + 2:
            p = q
    # (?:(?:the\s+)?(?:north|south|east|west|central)(?:ern)?\s+)?
    q = p
    if _ascii_at(f, q, lim, b"the"):
        r = _spaces(f, q + 3, lim)
        if r > q + 3:
            q = r
    for k in range(5):
        if _ascii_at(f, q, lim, _DIRECTIONS[k]):
            d = q + strlen(_DIRECTIONS[k])
            r = -1
            if _ascii_at(f, d, lim, b"ern"):
                r = _spaces(f, d + 3, lim)
                if r == d + 3:
                    r = -1
            if r < 0:
                r = _spaces(f, d, lim)
                if r == d:
                    r = -1
            if r >= 0:
                p = r
            break
    # ([A-Z][\w.]+(?:\s[A-Z][\w.]+)?)
    if p >= lim or not _is_az(rd(f, p)):
        return -1
    q = p + 1
    while q < lim and _word_or_dot(rd(f, q)):
        q += 1
    if q == p + 1:
        return -1
    if (q + 2 < lim and _is_space(rd(f, q)) and _is_az(rd(f, q + 1))
            and _word_or_dot(rd(f, q + 2))):
        q += 3
        while q < lim and _word_or_dot(rd(f, q)):
            q += 1
    name_end[0] = q
    return p


cdef object _qualifier(const Buf* f, str folded, Py_ssize_t end, object qualifier_of, object g):
    """geo/mentions.py ``_qualifier``: (country, admin1) named right after a place."""
    cdef Py_ssize_t e = 0
    cdef Py_ssize_t s = _qualifier_span(f, end, &e)
    if s < 0:
        return None
    return qualifier_of(PyUnicode_Substring(folded, s, e), g)


cdef dict _resolve(_Ctx x, str folded, list cands, dict focus, _Anchors anchors, object g,
                   dict first_pass):
    """Choose each candidate's place; one outcome per name and qualifier."""
    cdef double total_votes = _py_sum(focus.values()) or 1.0
    cdef dict memo = {}
    cdef dict rounded = M._ROUNDED
    cdef Py_ssize_t memo_max = M._MEMO_MAX
    cdef double far_a = M._FAR_A
    cdef double penalty, v
    cdef Cand c
    cdef Scored result, first
    cdef Buf f = _buf(folded)
    qualifier_of = M._qualifier_of
    for c in cands:
        if c.place is not None:
            continue
        qual = c.qual
        if qual is _NO_QUAL:
            if c.end < f.n and rd(&f, c.end) == 44:
                qual = _qualifier(&f, folded, c.end, qualifier_of, g)
            else:
                qual = None
            c.qual = qual
        key = c.key if qual is None else (c.key, qual)
        result = memo.get(key)
        if result is None:
            first = first_pass.get(key) if first_pass is not None else None
            if first is not None and len(c.idxs) > 1 and (
                first.idxs is c.idxs or first.idxs == c.idxs
            ):
                result = _rescore_near(x, c, first, anchors, far_a)
            else:
                result = _score_candidates(x, c, qual, focus, total_votes, anchors, g)
            memo[key] = result
        _set_record_place(c, result, x)
        penalty = x.penalty[c.context]
        if c.notes:
            penalty *= 0.8
        c.score = _rounded_score(result, penalty, rounded, memo_max)
        c.scored = result
    return memo


cdef list _anchor_rows(_Ctx x, list cands):
    """(key, lon, lat) of the confident specific places, one per name."""
    cdef dict out = {}
    cdef Cand c
    cdef int k
    for c in cands:
        if c.place is None:
            continue
        k = c.pkind
        if k == x.k_country or k == x.k_region or k == x.k_line or k == x.k_area:
            continue
        if (c.score >= 0.6 or len(c.idxs) == 1) and c.key not in out:
            out[c.key] = (c.key, c.plon, c.plat)
    return list(out.values())


cdef void _resolve_again(_Ctx x, str folded, list cands, dict focus, object g,
                         dict first_pass) except *:
    cdef list rows = _anchor_rows(x, cands)
    if not rows:
        return
    cdef list ambiguous = []
    cdef Cand c
    for c in cands:
        if len(c.idxs) > 1 and c.context != CTX_PHRASE:
            c.place = None
            ambiguous.append(c)
    _resolve(x, folded, ambiguous, focus, _make_anchors(rows), g, first_pass)


cdef double _haversine_km(double lon1, double lat1, double lon2, double lat2) noexcept:
    cdef double p1 = lat1 * _RAD, p2 = lat2 * _RAD
    cdef double dp = p2 - p1, dl = (lon2 - lon1) * _RAD
    cdef double a = _sq(sin(dp / 2)) + cos(p1) * cos(p2) * _sq(sin(dl / 2))
    return _arc_km(a)


cdef bint _plausible(_Ctx x, Cand c, list pids, double* plons, double* plats,
                     dict focus, object g, str folded, set named) except -1:
    """geo/mentions.py ``_plausible``: a minor place needs a reason to be believed."""
    cdef Py_ssize_t ws, we, k, n_others = 0
    cdef Buf f
    cdef double reach
    cdef bint alt_city
    if c.place is None or c.context == CTX_PHRASE:
        return True
    alt_city = c.pkind == x.k_city and not c.main
    if c.pkind != x.k_village and c.pkind != x.k_town and not alt_city:
        return True
    if c.locative < 0:  # a strong name: the filter left its previous word unread
        f = _buf(folded)
        _prev_word(&f, c.start, &ws, &we)
        prev_key = PyUnicode_Substring(folded, ws, we).lower() if we > ws else ""
        c.locative = prev_key in x.preps and prev_key != "of"
    if _facts(c.key, c.idxs, g.key_facts, g)[5]:
        return True
    # rare (a located minor place), so the Python reader of the next word serves
    region = c.locative and M._admin_unit_after(folded, c.end)
    if c.locative and not region:
        return True
    reach = 1000.0 if c.main or alt_city else 300.0
    if region:
        if focus.get(c.place.country or "", 0) > 0 or not any(w > 0 for w in focus.values()):
            return True
        for k in range(len(pids)):
            if pids[k] != c.pid and _haversine_km(c.plon, c.plat, plons[k], plats[k]) < reach:
                return True
        return False
    for k in range(len(pids)):
        if pids[k] != c.pid:
            n_others += 1
    if n_others == 0:
        return True
    if c.main and focus.get(c.place.country or "", 0) > 0:
        return True
    if alt_city and c.place.country in named:
        return True
    for k in range(len(pids)):
        if pids[k] != c.pid and _haversine_km(c.plon, c.plat, plons[k], plats[k]) < reach:
            return True
    return False


cdef list _plausible_only(_Ctx x, list cands, dict focus, object g, str folded):
    cdef dict seen = {}
    cdef list pids = []
    cdef Cand c
    cdef Py_ssize_t n = 0, k
    cdef double* plons = <double*>malloc((len(cands) + 1) * sizeof(double))
    cdef double* plats = <double*>malloc((len(cands) + 1) * sizeof(double))
    cdef list out = []
    cdef set named = set()
    if plons == NULL or plats == NULL:
        free(plons)
        free(plats)
        raise MemoryError()
    try:
        for c in cands:
            if c.place is not None and c.pkind == x.k_country:
                named.add(c.place.country)
            if c.place is None or c.pkind == x.k_region or c.pkind == x.k_country:
                continue
            # A dict comprehension keeps a key's first position and last value.
            found = seen.get(c.pid)
            if found is None:
                seen[c.pid] = n
                pids.append(c.pid)
                plons[n] = c.plon
                plats[n] = c.plat
                n += 1
            else:
                k = found
                plons[k] = c.plon
                plats[k] = c.plat
        for c in cands:
            if (
                c.place is None
                or c.context == CTX_PHRASE
                or (c.pkind != x.k_village and c.pkind != x.k_town
                    and (c.main or c.pkind != x.k_city))
                or _plausible(x, c, pids, plons, plats, focus, g, folded, named)
            ):
                out.append(c)
    finally:
        free(plons)
        free(plats)
    return out


# ---------------------------------------------------------------------------
# Phrases built around resolved countries


@cython.freelist(4)
cdef class _Hot:
    """Where each hot word (geo/mentions.py ``_HOT_LIST``) starts in a text's
    lower-cased form, in order (filled by :func:`_scan_lower`). No hot word
    overlaps another (tests/test_mentions_fast.py), so at most one starts at a
    position, and every position is compared: all the occurrences that
    ``_hot_starts`` finds with one substring search each."""

    cdef Py_ssize_t* pos
    cdef int* word
    cdef Py_ssize_t n, cap

    def __dealloc__(self):
        free(self.pos)
        free(self.word)


cdef _Hot _new_hot():
    cdef _Hot h = _Hot.__new__(_Hot)
    h.n = 0
    h.cap = 16
    h.pos = <Py_ssize_t*>malloc(h.cap * sizeof(Py_ssize_t))
    h.word = <int*>malloc(h.cap * sizeof(int))
    if h.pos == NULL or h.word == NULL:
        raise MemoryError()
    return h


cdef int _hot_add(_Hot h, Py_ssize_t pos, int word) except -1:
    cdef Py_ssize_t* p
    cdef int* w
    if h.n == h.cap:
        p = <Py_ssize_t*>realloc(h.pos, 2 * h.cap * sizeof(Py_ssize_t))
        if p == NULL:
            raise MemoryError()
        h.pos = p
        w = <int*>realloc(h.word, 2 * h.cap * sizeof(int))
        if w == NULL:
            raise MemoryError()
        h.word = w
        h.cap *= 2
    h.pos[h.n] = pos
    h.word[h.n] = word
    h.n += 1
    return 0


cdef bint _hot_near(_Hot hot, Py_ssize_t start, Py_ssize_t end) noexcept:
    """A hot word starts between 60 characters before ``start`` and 100 after ``end``."""
    cdef Py_ssize_t lo = 0, hi = hot.n, mid, target = start - 60
    while lo < hi:  # bisect_left
        mid = (lo + hi) // 2
        if hot.pos[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo < hot.n and hot.pos[lo] <= end + 100


cdef Cand _phrase(_Ctx x, str text, Py_ssize_t s, Py_ssize_t e, object place, str reason):
    cdef str surface = PyUnicode_Substring(text, s, e)
    cdef Cand c = _new_cand(s, e, gz.name_key(surface), [], surface, True, CTX_PHRASE)
    _set_built_place(c, place, x)
    c.reason = reason
    c.score = 0.9
    return c


cdef Py_ssize_t _joined_end(const Buf* f, Py_ssize_t p) noexcept:
    """Where geo/mentions.py ``_JOINED`` (``-``, `` and ``, `` ?/ ?``) matched at
    ``p`` ends, or ``p`` if it does not match."""
    cdef Py_ssize_t q = p
    if p < f.n and rd(f, p) == 45:  # "-"
        return p + 1
    if (p + 5 <= f.n and rd(f, p) == 32 and rd(f, p + 1) == 97 and rd(f, p + 2) == 110
            and rd(f, p + 3) == 100 and rd(f, p + 4) == 32):  # " and "
        return p + 5
    if q < f.n and rd(f, q) == 32:
        q += 1
    if q < f.n and rd(f, q) == 47:  # "/"
        q += 1
        if q < f.n and rd(f, q) == 32:
            q += 1
        return q
    return p


cdef inline bint _may_border_after(const Buf* f, Py_ssize_t p) noexcept:
    """Whether ``_border_after`` (``^(?:'s)?\\s+...``) can match at ``p``."""
    return p < f.n and (rd(f, p) == 39 or _is_space(rd(f, p)))


cdef list _phrase_mentions(_Ctx x, str text, str folded, str lower, _Hot hot, list cands,
                           dict focus, object g):
    """geo/mentions.py ``_phrase_mentions``: border and direction phrases."""
    cdef list out = []
    cdef list countries = []
    cdef Cand c, other
    cdef Buf fb
    cdef Py_ssize_t s, e, ws, we, w0
    for c in cands:
        if c.place is not None and c.pkind == x.k_country:
            countries.append(c)
    if not countries:
        return out
    cdef dict by_start = {}
    for c in countries:
        by_start[c.start] = c
    cdef set used = set()
    fb = _buf(folded)
    border_after = x.border_after
    border_before = x.border_before
    direction_before = x.direction_before
    border_links = M._BORDER_LINKS
    directions = x.directions
    border_place = M._border_place
    border_reason = M._border_reason
    part_of = M._part_of
    for c in countries:
        iso = c.place.country or ""
        if c.start in used:
            continue
        if not _hot_near(hot, c.start, c.end):
            continue
        w0 = c.start - 60
        if w0 < 0:
            w0 = 0
        window = PyUnicode_Substring(folded, w0, c.start)
        after = PyUnicode_Substring(folded, c.end, min(c.end + 60, fb.n))
        # "X-Y border", "X and Y border"
        e = _joined_end(&fb, c.end)
        if e > c.end:
            other = by_start.get(e)
            if other is not None and other.place is not None:
                tail = PyUnicode_Substring(folded, other.end, min(other.end + 40, fb.n))
                mb = border_after(tail)
                if mb:
                    place = g.border(iso, other.place.country or "")
                    if place is not None:
                        e = other.end + mb.end()
                        out.append(_phrase(x, text, c.start, e, place,
                                           "border of two named countries"))
                        used.add(c.start)
                        used.add(other.start)
                        continue
        _prev_word(&fb, c.start, &ws, &we)
        last = PyUnicode_Substring(folded, ws, we).lower() if we > ws else ""
        mb = border_before(window) if last in border_links else None
        if mb:
            s = c.start - len(window) + mb.start(1)
            place = border_place(iso, focus, g)
            if place is not None:
                out.append(_phrase(x, text, s, c.end, place, border_reason(place, iso)))
                used.add(c.start)
                continue
        mb = border_after(after) if _may_border_after(&fb, c.end) else None
        if mb:
            place = border_place(iso, focus, g)
            if place is not None:
                out.append(_phrase(x, text, c.start, c.end + mb.end(), place,
                                   border_reason(place, iso)))
                used.add(c.start)
                continue
        md = direction_before(window) if last == "of" or last in directions else None
        if md:
            word = (md.group(1) or md.group(2) or "").lower()
            direction = directions.get(word)
            s = c.start - len(window) + md.start(1 if md.group(1) else 2)
            if direction:
                place = part_of(c.place, direction, g)
                if place is not None:
                    out.append(_phrase(x, text, s, c.end, place,
                                       f"{word} part of {c.place.name}"))
                    used.add(c.start)
    return out


cdef list _demonym_borders(_Ctx x, str text, str folded, str lower, _Hot hot, dict focus,
                           object g):
    """geo/mentions.py ``_demonym_borders``: "the Serbian border". The border
    words are the matches of ``_BORDER_WORD`` (a whole word, an optional
    plural s), found among the hot words; the word before is ``_WORD_BEFORE``'s
    match (ASCII letters, then blanks up to the border word, within 30
    characters)."""
    cdef list out = []
    cdef Buf lb = _buf(lower)
    cdef Buf fb = _buf(folded)
    cdef Py_ssize_t k, p, e, lo, q, ws, n = lb.n
    cdef int w
    cdef Py_UCS4 c
    cdef dict dem = x.dem
    border_place = M._border_place
    border_reason = M._border_reason
    for k in range(hot.n):
        w = hot.word[k]
        p = hot.pos[k]
        if w == x.hot_border or w == x.hot_frontier:
            e = p + (6 if w == x.hot_border else 8)
        elif w == x.hot_boundar:
            if p + 7 >= n or rd(&lb, p + 7) != 121:  # "boundar" + "y"
                continue
            e = p + 8
        else:
            continue
        if p > 0 and _is_word(rd(&lb, p - 1)):
            continue
        if e < n and rd(&lb, e) == 115:  # s?
            if e + 1 == n or not _is_word(rd(&lb, e + 1)):
                e += 1
            else:
                continue
        elif e < n and _is_word(rd(&lb, e)):
            continue
        lo = p - 30
        if lo < 0:
            lo = 0
        q = p
        while q > lo and _is_space(rd(&lb, q - 1)):
            q -= 1
        if q == p:
            continue
        ws = q
        while ws > lo:
            c = rd(&lb, ws - 1)
            if not (97 <= c <= 122):
                break
            ws -= 1
        if ws == q:
            continue
        word = PyUnicode_Substring(lower, ws, q)
        if word not in dem or not _is_upper1(rd(&fb, ws)):
            continue
        iso = dem[word]
        place = border_place(iso, focus, g)
        if place is not None:
            reason = f"border named by a demonym ({iso}); {border_reason(place, iso)}"
            out.append(_phrase(x, text, ws, e, place, reason))
    return out


def _start_of(Cand c):
    return c.start


cdef list _merge_by_start(list a, list b):
    """``sorted(a + b, key=start)``, stable, for two lists already in that order."""
    cdef list out = []
    cdef Py_ssize_t i = 0, j = 0, na = len(a), nb = len(b)
    cdef Cand ca, cb
    while i < na and j < nb:
        ca = a[i]
        cb = b[j]
        if cb.start < ca.start:
            out.append(cb)
            j += 1
        else:
            out.append(ca)
            i += 1
    if i < na:
        out.extend(a[i:])
    if j < nb:
        out.extend(b[j:])
    return out


# ---------------------------------------------------------------------------
# Mentions, built without the frozen dataclass's per-field object.__setattr__


cdef Py_ssize_t _MENTION_AT[7]  # where each field's slot is in a Mention


def _check_mention_layout():
    """The fast constructor fills Mention's slots in field order; refuse to load
    (the pure-Python geoparser is used instead) if the class has changed."""
    names = [f.name for f in dataclasses.fields(Mention)]
    if names != ["text", "start", "end", "place", "score", "reason", "alternatives"]:
        raise ImportError(f"geo.models.Mention has fields {names}; update geo/_cmentions.pyx")
    for k, name in enumerate(names):
        _MENTION_AT[k] = geo_slot_offset(Mention.__dict__[name])
        if _MENTION_AT[k] < 0:
            raise ImportError(f"geo.models.Mention.{name} is not a slot; update geo/_cmentions.pyx")
    place = Place("gn:0", "Kosovo", "country", "XK", 20.9, 42.6)
    args = ("Kosovo", 3, 9, place, 0.5, "why", ("gn:1",))
    fast = _new_mention(*args)
    slow = Mention(*args)
    if fast != slow or repr(fast) != repr(slow) or hash(fast) != hash(slow):
        raise ImportError("geo/_cmentions.pyx builds Mention objects unlike the class does")


cdef inline object _fill_mention(object text, object start, object end, object place,
                                 object score, object reason, object alternatives):
    cdef object m = geo_alloc(Mention)
    geo_put_slot(m, _MENTION_AT[0], text)
    geo_put_slot(m, _MENTION_AT[1], start)
    geo_put_slot(m, _MENTION_AT[2], end)
    geo_put_slot(m, _MENTION_AT[3], place)
    geo_put_slot(m, _MENTION_AT[4], score)
    geo_put_slot(m, _MENTION_AT[5], reason)
    geo_put_slot(m, _MENTION_AT[6], alternatives)
    return m


def _new_mention(text, start, end, place, score, reason, alternatives):
    return _fill_mention(text, start, end, place, score, reason, alternatives)


cdef object _mention(Cand c, str reason, tuple alternatives):
    return _fill_mention(c.surface, c.start, c.end, c.place, c.score, reason, alternatives)


# ---------------------------------------------------------------------------
# Public API


def find_mentions(str text, *, published=None):
    """geo/mentions.py ``find_mentions``, compiled: the same mentions."""
    if not text:
        return []
    g = gz.load()
    cdef _Ctx x = _context(g)
    cdef str folded = _fold(x, text)
    cdef dict demonym_votes = {}
    cdef list cands = _sequence_candidates(x, text, folded, g, demonym_votes)
    cdef str lower = folded.lower()
    cdef _Hot hot = _new_hot()
    cdef list phrases = _curated_phrases(x, text, lower, hot, g)
    cands = _without_overlaps(cands, phrases)
    cands = _filter(x, text, folded, cands, g)
    if phrases:
        cands = _merge_by_start(cands, phrases)
    cdef dict focus = _document_focus(x, cands, demonym_votes, g)
    cdef _Anchors none = _make_anchors([])
    cdef dict first_pass = _resolve(x, folded, cands, focus, none, g, None)
    _resolve_again(x, folded, cands, focus, g, first_pass)
    cands = _plausible_only(x, cands, focus, g, folded)
    cdef list built = _phrase_mentions(x, text, folded, lower, hot, cands, focus, g) if hot.n else []
    if hot.n:
        built += _without_overlaps(_demonym_borders(x, text, folded, lower, hot, focus, g), built)
    if built:
        cands = _py_sorted(_without_overlaps(cands, built) + built, key=_start_of)
    cdef list out = []
    cdef Cand c
    cdef Scored scored
    cdef tuple why
    for c in cands:
        if c.place is None:
            continue
        scored = c.scored
        if scored is None:  # a phrase built with its reason
            out.append(_mention(c, c.reason, c.alternatives))
        else:
            why = scored.text if scored.text is not None else _explain(scored, x, g)
            reason = why[0]
            if c.notes:
                reason = "; ".join([reason, *c.notes])
            out.append(_mention(c, reason, why[1]))
    return out


_check_mention_layout()


def scan_lower(str lower):
    """(phrase hits, hot word starts) of ``lower``, for tests."""
    cdef _Hot hot = _new_hot()
    found = _scan_lower(_context(gz.load()), lower, hot)
    return found, [hot.pos[k] for k in range(hot.n)]


def qualifier_span(str folded, Py_ssize_t end):
    """(start, end) of the name ``_QUALIFIER`` captures at ``end``, or None; for tests."""
    cdef Buf f = _buf(folded)
    cdef Py_ssize_t e = 0
    cdef Py_ssize_t s = _qualifier_span(&f, end, &e) if 0 <= end <= f.n else -1
    return None if s < 0 else (s, e)



def style_counts(str text, Py_ssize_t s, Py_ssize_t e):
    """(words, capitalised words, title-case words) of ``text[s:min(e, s + 400)]``,
    as the line styles count them; for tests."""
    cdef Buf t = _buf(text)
    cdef Py_ssize_t counts[3]
    if not (0 <= s <= e <= t.n):
        raise ValueError("span outside the text")
    _counts_of(&t, s, e, counts)
    return counts[0], counts[1], counts[2]


def joined_end(str folded, Py_ssize_t p):
    """_joined_end, for tests."""
    cdef Buf f = _buf(folded)
    return _joined_end(&f, p)
