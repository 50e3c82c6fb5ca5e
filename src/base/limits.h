/*
 * limits.h - every ceiling isac enforces, in one place.
 *
 * A client can never grow the daemon's memory past these. Limits that apply
 * before authentication are tighter than those after it. The README's
 * "Limits" section lists them; keep both in step.
 */
#ifndef ISAC_LIMITS_H
#define ISAC_LIMITS_H

#define LIMIT_HEADER_BYTES      (16 * 1024)   /* all request headers together */
#define LIMIT_BODY_BYTES        (1024 * 1024) /* any request body */
#define LIMIT_BODY_UNAUTH_BYTES (8 * 1024)    /* body before authentication (login) */
#define LIMIT_MEMBER_BODY_BYTES (64 * 1024)   /* bodies of the member endpoints */
#define LIMIT_URL_BYTES         4096
#define LIMIT_JSON_DEPTH        32

#define LIMIT_NAME_CHARS        200  /* organisation and display names */
#define LIMIT_LOGIN_MIN         3
#define LIMIT_LOGIN_MAX         64
#define LIMIT_PASSWORD_MIN      12   /* bytes */
#define LIMIT_PASSWORD_MAX      1024 /* bytes */
#define LIMIT_EMAIL_MAX         254
#define LIMIT_CONTACTS          20
#define LIMIT_CONTACT_VALUE     512
#define LIMIT_CONTACT_LABEL     100
#define LIMIT_SECTORS           64
#define LIMIT_SECTOR_CODE       32
#define LIMIT_TOKEN_NAME        100
#define LIMIT_TOKEN_DAYS_MAX    365
#define LIMIT_TOKEN_DAYS_DEFAULT 90
#define LIMIT_QUERY_CHARS       200  /* q= search strings */

/*
 * Organisation identifiers (issue 4): what the anonymizer always redacts.
 * The same ceilings as ANON_MAX_ORG_ITEMS / ANON_MAX_ORG_ITEM (anon.h; an
 * assertion in api_anon.c keeps them equal), so whatever is stored can be
 * compiled. Five full lists exceed LIMIT_MEMBER_BODY_BYTES; a PATCH
 * replaces only the lists it names, so they can be set one at a time.
 */
#define LIMIT_ORG_IDENTIFIERS   64   /* entries in each identifier list */
#define LIMIT_ORG_IDENTIFIER    255  /* bytes of one identifier */
#define LIMIT_ANON_ALLOW        64   /* anon_allow domains (config) */

/* Reports (issue 3). */
#define LIMIT_REPORT_TITLE       200    /* characters */
#define LIMIT_REPORT_DESCRIPTION 20000  /* characters */
#define LIMIT_REPORT_DETAIL      4000   /* cause detail, follow-up status */
#define LIMIT_REPORT_CAUSES      8
#define LIMIT_REPORT_OBSERVABLES 500
#define LIMIT_OBSERVABLE_CHARS   2048
#define LIMIT_REPORT_BODY_BYTES  (512 * 1024)
#define LIMIT_IDEMPOTENCY_KEY    128
#define LIMIT_AUDIENCE_ORGS      200    /* named organisations in a report's audience */
#define LIMIT_MARKING_TEXT       1000   /* purpose of use, handling rule */
#define LIMIT_NEARMISS_COUNT     1000000
#define LIMIT_NEARMISS_PAGE      1000   /* near-miss entries per page */

/* Alerts (issue 5). */
#define LIMIT_ALERT_TITLE        200    /* characters, each language */
#define LIMIT_ALERT_TEXT         4000   /* summary, actions, withdrawal reason: each language */
#define LIMIT_ALERT_LINKS        50     /* linked releases; linked reports */
#define LIMIT_ALERT_OBSERVABLES  500
#define LIMIT_ALERT_NOTE         4000   /* a recipient's note on an acted receipt */
#define LIMIT_ALERT_BODY_BYTES   (512 * 1024)
#define LIMIT_STREAMS            20000  /* event streams open at once (GET /api/v1/stream) */

#define LIMIT_PAGE_DEFAULT      50
#define LIMIT_PAGE_MAX          200

#define LIMIT_ERR_FIELDS        32   /* validation errors reported per request */

/* Login throttling: failures counted in a sliding window. */
#define LIMIT_LOGIN_FAIL_ACCOUNT 5
#define LIMIT_LOGIN_FAIL_ADDRESS 20
#define LIMIT_LOGIN_WINDOW_S     (15 * 60)

#define LIMIT_SESSION_TTL_S      (12 * 60 * 60)

#endif
