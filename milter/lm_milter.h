/*
 * lm_milter - the libmilter callbacks of listmilter.
 *
 * Callbacks only collect facts into the connection's smfi_setpriv data
 * and ask the pure decision (lm_decide) for a plan; xxfi_eom applies the
 * plan (lm_rewrite edits, smfi_chgfrom) and nothing else modifies the
 * message.  Non-list mail is accepted at DATA (the earliest point where
 * no later RCPT can still join the transaction).  A transaction whose
 * recipients mix a list with anything else gets 452 4.5.3 for the later
 * recipients (RFC 5321 3.3: the client retries them in a new
 * transaction), except for locally submitted mail (Postfix
 * non_smtpd_milters), where recipients must not be refused and the
 * message is refused at end of data instead.
 *
 * Ownership: struct lm_conn is allocated at negotiation, reset per
 * message, freed in xxfi_close.  The daemon pointer given to
 * lm_milter_register() is the only shared state: it is set once before
 * smfi_main() and the snapshot it points at is swapped under its mutex.
 */
#ifndef LM_MILTER_H
#define LM_MILTER_H

#include "lm_state.h"

int	 lm_milter_register(struct lm_daemon *);

#endif
