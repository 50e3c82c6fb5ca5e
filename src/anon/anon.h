/*
 * anon.h - the anonymizer: proposes the release text of a report.
 * (Being written; see the issue 4 brief. Placeholder so the build stays whole.)
 */
#ifndef ISAC_ANON_H
#define ISAC_ANON_H
#endif
