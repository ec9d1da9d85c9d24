/* pipeline.h: an instance's BPF pipeline: installed as one transaction, blocked, removed, read. */
#ifndef IRONCLAW_PIPELINE_H
#define IRONCLAW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"
#include "attach.h"
#include "diag.h"
#include "install_req.h"

/*
 * Installs a new instance, or switches a running one to the request in one
 * step; on any error the running policy stays as it was. The caller holds
 * the instance lock (instance.h) or is the only writer (tests). 1: nothing
 * done, the instance runs this request already (rq->reuse_unchanged).
 */
int pipeline_install(const struct install_req *rq, struct diag *d);
/*
 * deny-all: every packet is dropped with reason "blocked" until the next
 * install. Needs no lock; -EAGAIN (and no message) for an instance of an
 * earlier build, whose control word only the lock guards, unless locked.
 */
int pipeline_block(const char *name, bool locked, struct diag *d);
/* detaches and unpins everything of the instance */
int pipeline_uninstall(const char *name, struct diag *d);
/* the sandbox addresses of generation gen (-1: the one in force); count or -errno */
int pipeline_sources(const char *name, int gen, struct addr *out, size_t max);

#endif
