/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * System facts for questions about this machine ("why is it slow?"): a
 * plain-text block the ask command puts in front of the model. Read-only:
 * collecting them changes nothing on the system.
 */
#ifndef LLAMUX_CLI_FACTS_H
#define LLAMUX_CLI_FACTS_H

/*
 * Load average, CPU count and use (/proc/stat sampled ~200 ms apart),
 * memory and swap, the top 5 processes by CPU (over the same interval) and
 * by resident memory, free space of / and /home, and pressure stall
 * information where the kernel has it. A malloc'd string (free it), or
 * NULL when out of memory. Takes about 200 ms.
 */
char *cli_collect_facts(void);

#endif
