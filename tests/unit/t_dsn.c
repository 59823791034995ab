/*
 * t_dsn - table tests for lm_dsn: Content-Type parameters (RFC 2045 5.1:
 * quoted boundary, case, comments), multipart delimiters (RFC 2046
 * 5.1.1: preamble, transport padding, close delimiter missing), report
 * detection (RFC 6522, RFC 6533), delivery-status fields (RFC 3464 2:
 * Postfix, Gmail, Exim, Sendmail shapes, several and too many
 * recipients, type prefixes, Action and Status validation, folded
 * diagnostics), transfer encodings of the status part (RFC 2045 6.7,
 * 6.8) and sanitizing and truncation of every value.
 * One CHECK per table row; prints "N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_dsn.h"
#include "lmtest.h"

#define CRLF		"\r\n"
#define CT(b)		" multipart/report; report-type=delivery-status;" \
			CRLF "\tboundary=\"" b "\""
#define CT_B1		CT("B1")
/* A minimal report around the status part text s, boundary B1. */
#define TEXTPART	"--B1" CRLF "Content-Type: text/plain" CRLF CRLF \
			"Your message could not be delivered." CRLF CRLF
#define DSN(s)		TEXTPART "--B1" CRLF \
			"Content-Type: message/delivery-status" CRLF CRLF \
			s CRLF "--B1--" CRLF
#define MSGF		"Reporting-MTA: dns; mx.example.org" CRLF CRLF
#define RCPT1		"Final-Recipient: rfc822; bob@example.net" CRLF \
			"Action: failed" CRLF "Status: 5.1.1" CRLF

struct rcpt_want {
	const char	*final, *orig, *action, *status, *remote, *diag;
};

struct row {
	const char	*name;
	const char	*ct;
	const char	*body;
	size_t		 blen;		/* 0: strlen(body) */
	int		 ret;
	const char	*rmta, *envid;
	size_t		 n, more;
	struct rcpt_want r[3];		/* the first recipients */
};

/* RW(final, orig, action, status, remote, diag): one expected recipient */
#define RW(...)		__VA_ARGS__
#define BOB		RW("bob@example.net", NULL, "failed", "5.1.1", NULL, NULL)
#define NOTDSN(nm, ct, body) { nm, ct, body, 0, 1, NULL, NULL, 0, 0, { { 0 } } }
#define BAD(nm, ct, body) { nm, ct, body, 0, -1, NULL, NULL, 0, 0, { { 0 } } }
/* one recipient, Reporting-MTA mx.example.org */
#define ONE(nm, ct, body, ...) { nm, ct, body, 0, 0, "mx.example.org", NULL, \
			1, 0, { { __VA_ARGS__ } } }

/* ---------------------------------------------------------------- */
/* realistic reports */

#define POSTFIX_B	"3F1B01234.1700000000/mx.example.org"
#define POSTFIX_DIAG							\
	"550-5.7.26 Unauthenticated email from example.com is not "	\
	"accepted due to domain's DMARC policy. Please contact the "	\
	"administrator of example.com domain if this was a legitimate "	\
	"mail. 550 5.7.26 To learn about the DMARC initiative, go to "	\
	"https://support.google.com/mail/?p=DmarcRejection "		\
	"a1-20020a05600c000000b0040a0si1234567wmb.42 - gsmtp"

static const char postfix_body[] =
	"This is a MIME-encapsulated message." CRLF CRLF
	"--" POSTFIX_B CRLF
	"Content-Description: Notification" CRLF
	"Content-Type: text/plain; charset=us-ascii" CRLF CRLF
	"This is the mail system at host mx.example.org." CRLF CRLF
	"<bob@gmail.com>: host gmail-smtp-in.l.google.com[142.250.1.26] said:"
	CRLF "    550-5.7.26 Unauthenticated email (in reply to end of DATA"
	CRLF "    command)" CRLF CRLF
	"--" POSTFIX_B CRLF
	"Content-Description: Delivery report" CRLF
	"Content-Type: message/delivery-status" CRLF CRLF
	"Reporting-MTA: dns; mx.example.org" CRLF
	"X-Postfix-Queue-ID: 3F1B01234" CRLF
	"X-Postfix-Sender: rfc822; list-bounces@example.org" CRLF
	"Arrival-Date: Tue, 14 Nov 2023 10:00:00 +0000 (UTC)" CRLF CRLF
	"Final-Recipient: rfc822; bob@gmail.com" CRLF
	"Original-Recipient: rfc822;bob@gmail.com" CRLF
	"Action: failed" CRLF
	"Status: 5.7.26" CRLF
	"Remote-MTA: dns; gmail-smtp-in.l.google.com" CRLF
	"Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email from "
	"example.com is not accepted due to" CRLF
	"    domain's DMARC policy. Please contact the administrator of" CRLF
	"    example.com domain if this was a legitimate mail. 550 5.7.26 To"
	CRLF "    learn about the DMARC initiative, go to" CRLF
	"    https://support.google.com/mail/?p=DmarcRejection" CRLF
	"    a1-20020a05600c000000b0040a0si1234567wmb.42 - gsmtp" CRLF CRLF
	"--" POSTFIX_B CRLF
	"Content-Description: Undelivered Message Headers" CRLF
	"Content-Type: text/rfc822-headers" CRLF CRLF
	"From: Alice <alice@example.com>" CRLF
	"To: list@example.org" CRLF CRLF
	"--" POSTFIX_B "--" CRLF;

#define GMAIL_DIAG							\
	"550 5.7.26 This mail is unauthenticated, which poses a security " \
	"risk to the sender and Gmail users, and has been blocked."

static const char gmail_body[] =
	"--000000000000a1b2c3d4e5f6" CRLF
	"Content-Type: text/plain; charset=\"UTF-8\"" CRLF CRLF
	"** Message blocked **" CRLF CRLF
	"--000000000000a1b2c3d4e5f6" CRLF
	"Content-Type: message/delivery-status; charset=\"US-ASCII\"" CRLF
	CRLF
	"Reporting-MTA: dns; googlemail.com" CRLF
	"Received-From-MTA: dns; list@example.org" CRLF
	"Arrival-Date: Mon, 13 Nov 2023 01:02:03 -0800 (PST)" CRLF CRLF
	"Final-Recipient: rfc822; user@example.net" CRLF
	"Action: failed" CRLF
	"Status: 5.7.26" CRLF
	"Remote-MTA: dns; mx.example.net. (192.0.2.1, the server for the"
	CRLF " domain example.net.)" CRLF
	"Diagnostic-Code: smtp; 550 5.7.26 This mail is unauthenticated, "
	"which poses a security risk to the" CRLF
	" sender and Gmail users, and has been blocked." CRLF
	"Last-Attempt-Date: Mon, 13 Nov 2023 01:02:04 -0800 (PST)" CRLF CRLF
	"--000000000000a1b2c3d4e5f6" CRLF
	"Content-Type: message/rfc822" CRLF CRLF
	"Subject: hi" CRLF CRLF "body" CRLF
	"--000000000000a1b2c3d4e5f6--" CRLF;

#define EXIM_B		"1700000000-eximdsn-1804289383"
static const char exim_body[] =
	"This is a MIME-formatted message.  If you see this text it means that"
	CRLF "your E-mail software does not support MIME-formatted messages."
	CRLF CRLF
	"--" EXIM_B CRLF
	"Content-type: text/plain; charset=us-ascii" CRLF CRLF
	"This message was created automatically by mail delivery software."
	CRLF CRLF
	"--" EXIM_B CRLF
	"Content-type: message/delivery-status" CRLF CRLF
	"Reporting-MTA: dns; mail.example.com" CRLF CRLF
	"Action: failed" CRLF
	"Final-Recipient: rfc822;alice@example.net" CRLF
	"Status: 5.0.0" CRLF
	"Remote-MTA: dns; mx.example.net" CRLF
	"Diagnostic-Code: smtp; 550 5.1.1 <alice@example.net>: Recipient "
	"address rejected: User unknown" CRLF CRLF
	"--" EXIM_B CRLF
	"Content-type: message/rfc822" CRLF CRLF
	"Subject: x" CRLF CRLF "x" CRLF
	"--" EXIM_B "--" CRLF;

#define SM_B		"3ANA1a2b012345.1700000000/mail.example.com"
static const char sendmail_body[] =
	"This is a MIME-encapsulated message" CRLF CRLF
	"--" SM_B CRLF CRLF		/* first part: no header at all */
	"The original message was received at Tue, 14 Nov 2023" CRLF
	"   ----- The following addresses had permanent fatal errors -----"
	CRLF "<carol@example.net>" CRLF "    (reason: 550 5.7.1 Rejected)"
	CRLF CRLF
	"--" SM_B CRLF
	"Content-Type: message/delivery-status" CRLF CRLF
	"Reporting-MTA: dns; mail.example.com" CRLF
	"Received-From-MTA: DNS; localhost" CRLF
	"Arrival-Date: Tue, 14 Nov 2023 10:00:00 GMT" CRLF CRLF
	"Final-Recipient: RFC822; carol@example.net" CRLF
	"Action: failed" CRLF
	"Status: 5.7.1" CRLF
	"Remote-MTA: DNS; mx.example.net" CRLF
	"Diagnostic-Code: SMTP; 550 5.7.1 Rejected" CRLF
	"Last-Attempt-Date: Tue, 14 Nov 2023 10:00:01 GMT" CRLF CRLF
	"--" SM_B "--" CRLF;

static const struct row real_rows[] = {
	{ "postfix DMARC bounce",
	    " multipart/report; report-type=delivery-status;" CRLF
	    "\tboundary=\"" POSTFIX_B "\"", postfix_body, 0, 0,
	    "mx.example.org", NULL, 1, 0, {
	    { "bob@gmail.com", "bob@gmail.com", "failed", "5.7.26",
	    "gmail-smtp-in.l.google.com", POSTFIX_DIAG } } },
	{ "gmail folded diagnostic",
	    " multipart/report; boundary=\"000000000000a1b2c3d4e5f6\";"
	    " report-type=delivery-status", gmail_body, 0, 0,
	    "googlemail.com", NULL, 1, 0, {
	    { "user@example.net", NULL, "failed", "5.7.26",
	    "mx.example.net. (192.0.2.1, the server for the domain "
	    "example.net.)", GMAIL_DIAG } } },
	{ "exim",
	    " multipart/report; report-type=delivery-status; boundary="
	    EXIM_B, exim_body, 0, 0, "mail.example.com", NULL, 1, 0, {
	    { "alice@example.net", NULL, "failed", "5.0.0",
	    "mx.example.net", "550 5.1.1 <alice@example.net>: Recipient "
	    "address rejected: User unknown" } } },
	{ "sendmail, headerless first part",
	    " multipart/report; report-type=delivery-status;" CRLF
	    "\tboundary=\"" SM_B "\"", sendmail_body, 0, 0,
	    "mail.example.com", NULL, 1, 0, {
	    { "carol@example.net", NULL, "failed", "5.7.1",
	    "mx.example.net", "550 5.7.1 Rejected" } } },
	{ "several recipients, envelope id",
	    CT_B1, DSN("Reporting-MTA: dns; mx.example.org" CRLF
	    "Original-Envelope-Id: QQ314159@example.org" CRLF CRLF
	    "Final-Recipient: rfc822; a@example.net" CRLF
	    "Action: failed" CRLF "Status: 5.1.1" CRLF CRLF
	    "Original-Recipient: rfc822; b-alias@example.net" CRLF
	    "Final-Recipient: rfc822; b@example.net" CRLF
	    "Action: delivered" CRLF "Status: 2.0.0" CRLF CRLF CRLF
	    "Final-Recipient: rfc822; c@example.net" CRLF
	    "Action: relayed" CRLF "Status: 2.0.0" CRLF),
	    0, 0, "mx.example.org", "QQ314159@example.org", 3, 0, {
	    { "a@example.net", NULL, "failed", "5.1.1", NULL, NULL },
	    { "b@example.net", "b-alias@example.net", "delivered", "2.0.0",
	    NULL, NULL },
	    { "c@example.net", NULL, "relayed", "2.0.0", NULL, NULL } } },
	ONE("delayed 4.4.1", CT_B1, DSN(MSGF
	    "Final-Recipient: rfc822; slow@example.net" CRLF
	    "Action: delayed" CRLF "Status: 4.4.1" CRLF
	    "Diagnostic-Code: X-Postfix; connect to mx.example.net[192.0.2.9]"
	    ":25: Connection timed out" CRLF
	    "Will-Retry-Until: Fri, 17 Nov 2023 10:00:00 +0000 (UTC)" CRLF),
	    RW("slow@example.net", NULL, "delayed", "4.4.1", NULL,
	    "connect to mx.example.net[192.0.2.9]:25: Connection timed out")),
};

/* ---------------------------------------------------------------- */
/* Content-Type and multipart structure */

static const struct row mime_rows[] = {
	ONE("quoted boundary with quoted-pair",
	    " multipart/report; report-type=delivery-status; boundary="
	    "\"a\\\"b=?\"", "--a\"b=?" CRLF
	    "Content-Type: message/delivery-status" CRLF CRLF MSGF RCPT1
	    CRLF "--a\"b=?--", BOB),
	ONE("boundary with spaces, transport padding",
	    CT("simple boundary"), "preamble" CRLF
	    "--simple boundary \t" CRLF
	    "Content-Type: message/delivery-status" CRLF CRLF MSGF RCPT1
	    CRLF "--simple boundary--  " CRLF "epilogue" CRLF, BOB),
	ONE("comments, case, folded parameters",
	    " Multipart/REPORT (a (nested) comment);" CRLF
	    " Report-Type = \"Delivery-Status\" (x);\tBOUNDARY=B1 ;",
	    DSN(MSGF RCPT1), BOB),
	ONE("missing close delimiter: tolerated", CT_B1, TEXTPART "--B1" CRLF
	    "Content-Type: message/delivery-status" CRLF CRLF MSGF RCPT1,
	    BOB),
	ONE("body cut inside the diagnostic", CT_B1, TEXTPART "--B1" CRLF
	    "Content-Type: message/delivery-status" CRLF CRLF MSGF RCPT1
	    "Diagnostic-Code: smtp; 550 5.1.1 no such us",
	    RW("bob@example.net", NULL, "failed", "5.1.1", NULL,
	    "550 5.1.1 no such us")),
	ONE("delimiter look-alikes are content", CT_B1, "--B1" CRLF
	    "Content-Type: text/plain" CRLF CRLF "--B1x" CRLF "--B1--x" CRLF
	    " --B1" CRLF "--B1" CRLF
	    "Content-Type: message/delivery-status" CRLF CRLF MSGF RCPT1
	    "--B1-" CRLF CRLF "--B1--",
	    BOB),
	ONE("status part third, LF line ends", CT_B1,
	    "--B1\nContent-Type: text/plain\n\nx\n"
	    "--B1\nContent-Type: text/rfc822-headers\n\nSubject: x\n"
	    "--B1\ncontent-type: MESSAGE/Delivery-Status\n\n"
	    "Reporting-MTA: dns; mx.example.org\n\n"
	    "Final-Recipient: rfc822; bob@example.net\nAction: failed\n"
	    "Status: 5.1.1\n--B1--\n", BOB),
	ONE("report-type=global-delivery-status",
	    " multipart/report; report-type=global-delivery-status; "
	    "boundary=B1", DSN(MSGF RCPT1), BOB),
	BAD("no delivery-status part", CT_B1, TEXTPART "--B1" CRLF
	    "Content-Type: message/rfc822" CRLF CRLF "Subject: x" CRLF
	    "--B1--" CRLF),
	BAD("text/plain status part", CT_B1, TEXTPART "--B1" CRLF
	    CRLF MSGF RCPT1 "--B1--" CRLF),
	BAD("no boundary parameter",
	    " multipart/report; report-type=delivery-status", DSN(MSGF RCPT1)),
	BAD("two boundary parameters",
	    " multipart/report; report-type=delivery-status; boundary=B1; "
	    "boundary=B2", DSN(MSGF RCPT1)),
	BAD("two report-type parameters",
	    " multipart/report; report-type=delivery-status; boundary=B1; "
	    "report-type=disposition-notification", DSN(MSGF RCPT1)),
	BAD("boundary of 71 characters",
	    CT("12345678901234567890123456789012345678901234567890"
	    "123456789012345678901"), DSN(MSGF RCPT1)),
	BAD("empty boundary", CT(""), DSN(MSGF RCPT1)),
	BAD("boundary never in the body", CT("B2"), DSN(MSGF RCPT1)),
	NOTDSN("not a report", " text/plain; charset=us-ascii",
	    DSN(MSGF RCPT1)),
	NOTDSN("multipart/mixed", " multipart/mixed; boundary=B1",
	    DSN(MSGF RCPT1)),
	NOTDSN("disposition notification",
	    " multipart/report; report-type=disposition-notification;"
	    " boundary=B1", DSN(MSGF RCPT1)),
	NOTDSN("report without report-type", " multipart/report; boundary=B1",
	    DSN(MSGF RCPT1)),
	NOTDSN("unclosed comment: text/plain (RFC 2045 5.2)",
	    " multipart/report; report-type=delivery-status; boundary=B1 (x",
	    DSN(MSGF RCPT1)),
	NOTDSN("parameter without value",
	    " multipart/report; report-type=delivery-status; boundary",
	    DSN(MSGF RCPT1)),
	NOTDSN("empty content type", "", DSN(MSGF RCPT1)),
	NOTDSN("garbage content type", "\x01\xff/\"(;=", DSN(MSGF RCPT1)),
	BAD("garbage body", CT_B1, "\xff\xfe--B\x00\r\r\n--\n;:"),
	BAD("empty body", CT_B1, ""),
};

/* ---------------------------------------------------------------- */
/* delivery-status fields and values */

static const struct row field_rows[] = {
	ONE("QP-encoded status part", CT_B1, TEXTPART "--B1" CRLF
	    "Content-Type: message/delivery-status" CRLF
	    "Content-Transfer-Encoding: Quoted-Printable (odd)" CRLF CRLF
	    "Reporting-MTA: dns; mx.example=2Eorg" CRLF CRLF
	    "Final-Recipient: rfc822; bob=40example.net" CRLF
	    "Action: failed" CRLF "Status: 5.7.26" CRLF
	    "Diagnostic-Code: smtp; 550 5.7.26 a very long line that was wr=" CRLF
	    "apped =3D soft break, stray = kept=20=20" CRLF "--B1--" CRLF,
	    RW("bob@example.net", NULL, "failed", "5.7.26", NULL,
	    "550 5.7.26 a very long line that was wrapped = soft break, "
	    "stray = kept")),
	ONE("base64-encoded status part", CT_B1, TEXTPART "--B1" CRLF
	    "Content-Type: message/global-delivery-status" CRLF
	    "Content-Transfer-Encoding: base64" CRLF CRLF
	    /* "Reporting-MTA: dns; mx.example.org\r\n\r\n" RCPT1 */
	    "UmVwb3J0aW5nLU1UQTogZG5zOyBteC5leGFtcGxlLm9yZw0KDQpGaW5hbC1S"
	    CRLF "ZWNpcGllbnQ6IHJmYzgyMjsgYm9iQGV4YW1wbGUubmV0DQpBY3Rpb246"
	    CRLF "IGZhaWxlZA0KU3RhdHVzOiA1LjEuMQ0K" CRLF "--B1--" CRLF, BOB),
	BAD("unknown transfer encoding", CT_B1, TEXTPART "--B1" CRLF
	    "Content-Type: message/delivery-status" CRLF
	    "Content-Transfer-Encoding: x-uuencode" CRLF CRLF MSGF RCPT1
	    "--B1--" CRLF),
	ONE("global-delivery-status, UTF-8 address", CT_B1, TEXTPART
	    "--B1" CRLF "Content-Type: message/global-delivery-status" CRLF
	    "Content-Transfer-Encoding: 8bit" CRLF CRLF MSGF
	    "Original-Recipient: utf-8; j\xc3\xb6rg@ex\xc3\xa4mple.de" CRLF
	    "Final-Recipient: utf-8; <j\xc3\xb6rg@ex\xc3\xa4mple.de>" CRLF
	    "Action: failed" CRLF "Status: 5.1.1" CRLF
	    "Diagnostic-Code: smtp; 550 5.1.1 \xe2\x80\x9cj\xc3\xb6rg\xe2"
	    "\x80\x9d unknown" CRLF "--B1--" CRLF,
	    RW("j\xc3\xb6rg@ex\xc3\xa4mple.de", "j\xc3\xb6rg@ex\xc3\xa4mple.de",
	    "failed", "5.1.1", NULL, "550 5.1.1 \xe2\x80\x9cj\xc3\xb6rg\xe2"
	    "\x80\x9d unknown")),
	ONE("control characters and CR sanitized", CT_B1, DSN(MSGF RCPT1
	    "Diagnostic-Code: smtp; 550 bad\x01\x1b[31mred\rInjected: yes"
	    "\x7f\t" CRLF),
	    RW("bob@example.net", NULL, "failed", "5.1.1", NULL,
	    "550 bad [31mred Injected: yes")),
	ONE("invalid UTF-8, C1 and bidi controls", CT_B1, DSN(MSGF RCPT1
	    "Diagnostic-Code: smtp; a\xff\xc0\xaf" "b\xc2\x85" "c"
	    "\xe2\x80\xae" "d\xed\xa0\x80" "e\xf0\x9f\x98\x80" CRLF),
	    RW("bob@example.net", NULL, "failed", "5.1.1", NULL,
	    "a???b?c?d???e\xf0\x9f\x98\x80")),
	{ "Action and Status validation", CT_B1, DSN(MSGF
	    "Final-Recipient: rfc822; a@example.net" CRLF
	    "Action: FAILED (permanent)" CRLF "Status: 5.1.10 (bad mailbox)"
	    CRLF CRLF
	    "Final-Recipient: rfc822; b@example.net" CRLF
	    "Action: failure" CRLF "Status: 6.1.1" CRLF CRLF
	    "Final-Recipient: rfc822; c@example.net" CRLF
	    "Action: failed; x" CRLF "Status: 5.1.1234" CRLF), 0, 0,
	    "mx.example.org", NULL, 3, 0, {
	    { "a@example.net", NULL, "failed", "5.1.10", NULL, NULL },
	    { "b@example.net", NULL, NULL, NULL, NULL, NULL },
	    { "c@example.net", NULL, NULL, NULL, NULL, NULL } } },
	ONE("first field wins, obsolete name spacing", CT_B1, DSN(MSGF
	    "final-recipient : rfc822; bob@example.net" CRLF
	    "Final-Recipient: rfc822; other@example.net" CRLF
	    "ACTION:failed" CRLF "Status:5.1.1" CRLF "Status: 4.0.0" CRLF
	    "not a field line" CRLF),
	    BOB),
	ONE("type prefix only when it is an atom", CT_B1, DSN(MSGF
	    "Final-Recipient: bob@example.net" CRLF "Action: failed" CRLF
	    "Status: 5.1.1" CRLF
	    "Remote-MTA: 192.0.2.1; x" CRLF
	    "Diagnostic-Code: 550 5.1.1 unknown; gone" CRLF),
	    RW("bob@example.net", NULL, "failed", "5.1.1", "192.0.2.1; x",
	    "550 5.1.1 unknown; gone")),
	BAD("no recipient group", CT_B1, DSN(MSGF)),
	BAD("recipient groups without Final-Recipient", CT_B1, DSN(MSGF
	    "Action: failed" CRLF "Status: 5.1.1" CRLF CRLF
	    "Original-Recipient: rfc822; x@example.net" CRLF)),
	ONE("group without Final-Recipient skipped, blank WSP lines",
	    CT_B1, DSN("  " CRLF MSGF "Action: failed" CRLF " \t" CRLF
	    RCPT1 CRLF "\t" CRLF),
	    BOB),
};

/* ---------------------------------------------------------------- */

static int
streq(const char *got, const char *want)
{
	return strcmp(got, want != NULL ? want : "") == 0;
}

/* Compare one recipient; names the first field that differs. */
static const char *
rcpt_diff(const struct lm_dsn_rcpt *g, const struct rcpt_want *w)
{
	if (!streq(g->final_rcpt, w->final))
		return g->final_rcpt;
	if (!streq(g->orig_rcpt, w->orig))
		return g->orig_rcpt;
	if (!streq(g->action, w->action))
		return g->action;
	if (!streq(g->status, w->status))
		return g->status;
	if (!streq(g->remote_mta, w->remote))
		return g->remote_mta;
	if (!streq(g->diag, w->diag))
		return g->diag;
	return NULL;
}

/* NULL if d is what row t expects, else what differs. */
static const char *
dsn_diff(const struct lm_dsn *d, int ret, const struct row *t)
{
	const char *bad;
	size_t i;

	if (ret != t->ret)
		return "return value";
	if (d->is_dsn != (ret != 1))
		return "is_dsn";
	if (ret != 0)
		return d->n == 0 && d->more == 0 &&
		    d->reporting_mta[0] == '\0' ? NULL : "not zeroed";
	if (!streq(d->reporting_mta, t->rmta))
		return d->reporting_mta;
	if (!streq(d->orig_envid, t->envid))
		return d->orig_envid;
	if (d->n != t->n || d->more != t->more)
		return "recipient count";
	for (i = 0; i < d->n && i < 3; i++)
		if ((bad = rcpt_diff(&d->r[i], &t->r[i])) != NULL)
			return bad;
	return NULL;
}

static void
run_rows(const struct row *rows, size_t nrows)
{
	struct lm_dsn *d;
	const char *bad;
	char esc[512];
	size_t i, blen;
	int ret;

	if ((d = malloc(sizeof *d)) == NULL)
		abort();
	for (i = 0; i < nrows; i++) {
		const struct row *t = &rows[i];

		blen = t->blen != 0 ? t->blen : strlen(t->body);
		ret = lm_dsn_parse(t->ct, strlen(t->ct), t->body, blen, d);
		bad = dsn_diff(d, ret, t);
		CHECK(bad == NULL, "%s: ret %d, wrong: %s", t->name, ret,
		    bad != NULL ? lmt_esc(bad, strlen(bad), esc, sizeof esc) :
		    "");
	}
	free(d);
}

/* ---------------------------------------------------------------- */
/* generated inputs: many recipients, long values, NUL, NULL */

static void
add_report(lm_buf *b, size_t nrcpt, const char *extra)
{
	size_t i;

	lm_buf_adds(b, TEXTPART "--B1" CRLF
	    "Content-Type: message/delivery-status" CRLF CRLF MSGF);
	for (i = 0; i < nrcpt; i++)
		lm_buf_printf(b, "Final-Recipient: rfc822; r%zu@example.net"
		    CRLF "Action: failed" CRLF "Status: 5.1.1" CRLF "%s" CRLF,
		    i, extra);
	lm_buf_adds(b, "--B1--" CRLF);
}

static void
test_many(void)
{
	struct lm_dsn *d = malloc(sizeof *d);
	lm_buf b;
	int ret;

	if (d == NULL)
		abort();
	lm_buf_init(&b, 1 << 20);
	add_report(&b, 40, "");
	ret = lm_dsn_parse(CT_B1, strlen(CT_B1), b.s, b.len, d);
	CHECK(ret == 0 && d->n == LM_DSN_MAXRCPT && d->more == 8 &&
	    strcmp(d->r[0].final_rcpt, "r0@example.net") == 0 &&
	    strcmp(d->r[31].final_rcpt, "r31@example.net") == 0,
	    "40 recipients: ret %d n %zu more %zu", ret, d->n, d->more);
	lm_buf_free(&b);
	free(d);
}

/* n copies of s into b */
static void
add_rep(lm_buf *b, const char *s, size_t n)
{
	while (n-- > 0)
		lm_buf_adds(b, s);
}

static int
all_of(const char *s, const char *unit, size_t count)
{
	size_t k = strlen(unit), i;

	if (strlen(s) != k * count)
		return 0;
	for (i = 0; i < count; i++)
		if (memcmp(s + i * k, unit, k) != 0)
			return 0;
	return 1;
}

static void
test_long(void)
{
	struct lm_dsn *d = malloc(sizeof *d);
	lm_buf b, v;
	int ret;

	if (d == NULL)
		abort();
	lm_buf_init(&b, 1 << 20);
	lm_buf_init(&v, 1 << 20);
	lm_buf_adds(&v, "Diagnostic-Code: smtp; ");
	add_rep(&v, "\xc3\xa9", 300);		/* 600 bytes of U+00E9 */
	lm_buf_adds(&v, CRLF "Remote-MTA: dns; ");
	add_rep(&v, "h", 1000);
	lm_buf_adds(&v, CRLF "Original-Recipient: rfc822; ");
	add_rep(&v, "o  ", 400);		/* collapses to "o o o ..." */
	lm_buf_adds(&v, CRLF);
	add_report(&b, 1, v.s);
	ret = lm_dsn_parse(CT_B1, strlen(CT_B1), b.s, b.len, d);
	/* 199 characters (398 bytes) fit in 400, half of one does not */
	CHECK(ret == 0 && d->n == 1 && all_of(d->r[0].diag, "\xc3\xa9", 199) &&
	    all_of(d->r[0].remote_mta, "h", 255) &&
	    strlen(d->r[0].orig_rcpt) == 319 &&
	    strncmp(d->r[0].orig_rcpt, "o o o", 5) == 0,
	    "long values: ret %d diag %zu remote %zu orig %zu", ret,
	    strlen(d->r[0].diag), strlen(d->r[0].remote_mta),
	    strlen(d->r[0].orig_rcpt));
	lm_buf_free(&v);
	lm_buf_free(&b);
	free(d);
}

#define CT_B12		" multipart/report; report-type=delivery-status; boundary=B12"
#define NUL_BODY	DSN(MSGF RCPT1 "Diagnostic-Code: smtp; 550\0x")

static void
test_nul_null(void)
{
	struct lm_dsn *d = malloc(sizeof *d);
	int ret;

	if (d == NULL)
		abort();
	ret = lm_dsn_parse(CT_B1, strlen(CT_B1), NUL_BODY,
	    sizeof NUL_BODY - 1, d);
	CHECK(ret == 0 && d->n == 1 && strcmp(d->r[0].diag, "550 x") == 0,
	    "NUL in a value: ret %d", ret);
	/* the content type ends at ctlen, not at a NUL */
	ret = lm_dsn_parse(CT_B12, strlen(CT_B12) - 1, NUL_BODY,
	    sizeof NUL_BODY - 1, d);
	CHECK(ret == 0 && d->n == 1, "ctlen cut: ret %d", ret);
	ret = lm_dsn_parse(NULL, 0, NUL_BODY, sizeof NUL_BODY - 1, d);
	CHECK(ret == 1 && d->is_dsn == 0, "NULL content type: ret %d", ret);
	ret = lm_dsn_parse(CT_B1, strlen(CT_B1), NULL, 0, d);
	CHECK(ret == -1 && d->is_dsn == 1, "NULL body: ret %d", ret);
	free(d);
}

int
main(void)
{
	run_rows(real_rows, sizeof real_rows / sizeof real_rows[0]);
	run_rows(mime_rows, sizeof mime_rows / sizeof mime_rows[0]);
	run_rows(field_rows, sizeof field_rows / sizeof field_rows[0]);
	test_many();
	test_long();
	test_nul_null();
	return LMT_DONE();
}
