// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A sample client of llamux.ko's in-kernel API: at load it asks the model to
 * continue `prompt` (greedy, `max_tokens` tokens) and prints the answer to
 * the kernel log, so other modules can see how a query is made.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "llamux/kernel.h"

static char *prompt = "Once upon a time";
module_param(prompt, charp, 0444);
MODULE_PARM_DESC(prompt, "text for the model to continue");

static unsigned int max_tokens = 32;
module_param(max_tokens, uint, 0444);
MODULE_PARM_DESC(max_tokens, "tokens to generate");

static int __init llamux_sample_init(void)
{
	struct llamux_params p;
	size_t cap = 4096;
	char *answer;
	ssize_t n;

	answer = kmalloc(cap, GFP_KERNEL);
	if (!answer)
		return -ENOMEM;
	llamux_kernel_default_params(&p);
	p.greedy = 1;
	p.max_tokens = max_tokens;
	n = llamux_kernel_query(prompt, &p, answer, cap, 120000);
	if (n < 0)
		pr_err("llamux_sample: query failed: %zd\n", n);
	else
		pr_info("llamux_sample: answer: %s\n", answer);
	kfree(answer);
	return n < 0 ? (int)n : 0;
}

static void __exit llamux_sample_exit(void)
{
}

module_init(llamux_sample_init);
module_exit(llamux_sample_exit);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("Sample client of the llamux in-kernel API");
