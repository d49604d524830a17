// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The AVX-512 kernels built a second time with AVX-512 VNNI, for CPUs that
 * have it: vpdpbusd does a tile's byte products and their sum into int32 in
 * one instruction, where the plain AVX-512 build needs vpmaddubsw, an add
 * and vpmaddwd. The sums are the same exact integers, so both builds give
 * identical results.
 */
#define LXK_VNNI 1
#include "kernels_avx512.c"
