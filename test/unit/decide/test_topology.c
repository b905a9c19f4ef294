/* The topology decision as a table: observed state -> expected actions and status.
 *
 * Observed state is written in a small notation, one instance per "|":
 *   <ordinal> <M|R|?|-> [flags...]
 *     M main, R replica (both reachable), ? pod exists but Bolt does not answer, - no pod
 *   flags: empty | unk (data unknown; default: holds data)   notready   term   norepl (SHOW REPLICAS failed)
 *          v=3.4.0   ts=N (last known ts)   uid=X (default u<ordinal>)   restarts=N
 *          reg-uid=X / reg-restarts=N (recorded at registration; default: same as the pod) / noreg (never
 * recorded) lbl=main|replica|replica-|none (current labels; default follows the role: main, replica readable)
 *          reg=<ordinal|name>:<A|S|X>:<ready|replicating|recovery|invalid|diverged>[:<behind>][:nodata][:badaddr]
 *          regdiv (its REGISTER failed: diverged)   reseedheld (re-seeded 3 times recently: rate limit)
 *          wasmain (acted as a MAIN since registered)   invalid-for=MS (listed invalid that long)
 *          graced (listed healthy less than REC_UNHEALTHY_GRACE_MS ago)
 * Cluster "mg" in namespace "db"; addresses print as the pod name (".mg-hl.db.svc:10000" is cut).
 * Expected actions exclude conditions, phase, requeue and labels; status is
 * "<phase> MA=<T|F|U>:<reason> RR=... RH=... rq=<sec>"; labels are checked when the column is not NULL. */
#include "cluster.h"
#include "mgo_buf.h"
#include "mg_rec.h"
#include "mgo_err.h"
#include "topology.h"
#include "notation.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct topo_case {
  const char *name;
  int instances;
  int sync;             /* syncReplicas */
  char sync_mode;       /* 'S' SYNC, 'X' STRICT_SYNC */
  char mode;            /* 'A', 'S', 'X' */
  const char *recorded; /* status.currentMain */
  const char *observed;
  const char *actions;
  const char *status;
  const char *labels; /* NULL: not checked */
  int allowed;        /* -1: not checked */
};

#define C3 3, 0, 'S', 'A'

static const struct topo_case cases[] = {
    /* ---- bootstrap ---- */
    {"fresh cluster: lowest ordinal, empty MAINs demoted", C3, "", "0 M empty | 1 M empty | 2 M empty",
     "record_main mg-0 LowestOrdinal; demote mg-1 port=10000 EmptyMainDemoted; demote mg-2 port=10000 "
     "EmptyMainDemoted",
     "Initializing MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", 3},
    {"bootstrap waits for a silent pod", C3, "", "0 M empty | 1 ? | 2 M empty", "",
     "Initializing MA=F:WaitingForInstances RR=U:MainUnavailable RH=T:Healthy rq=5",
     "label mg-0 unknown; label mg-2 unknown", 3},
    {"bootstrap ignores a terminating pod", C3, "", "0 M empty | 1 ? term | 2 M empty",
     "record_main mg-0 LowestOrdinal; demote mg-2 port=10000 EmptyMainDemoted",
     "Initializing MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", NULL, -1},
    {"no pods yet", C3, "", "0 - | 1 - | 2 -", "",
     "Pending MA=F:NoInstanceReachable RR=U:MainUnavailable RH=T:Healthy rq=5", "", 3},
    {"existing MAIN with data wins", C3, "", "0 M empty | 1 M | 2 R",
     "record_main mg-1 ExistingMainWithData; demote mg-0 port=10000 EmptyMainDemoted",
     "Initializing MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", NULL, 3},
    {"newest data wins over lower ordinal", C3, "", "0 R ts=5 | 1 R ts=9 | 2 M empty",
     "record_main mg-1 NewestData; promote mg-1 PromoteChosenMain; demote mg-2 port=10000 EmptyMainDemoted",
     "Initializing MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", NULL, 3},
    {"data with unknown ts: lowest ordinal", C3, "", "0 R | 1 R | 2 M empty",
     "record_main mg-0 NewestData; promote mg-0 PromoteChosenMain; demote mg-2 port=10000 EmptyMainDemoted",
     "Initializing MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", NULL, 3},
    {"two MAINs with data at bootstrap: stop", C3, "", "0 M | 1 M | 2 R",
     "stop MultipleMainsWithData; event MultipleMainsWithData",
     "Failed MA=F:MultipleMainsWithData RR=U:MainUnavailable RH=T:Healthy rq=30",
     "label mg-0 unknown; label mg-1 unknown", 3},
    {"MAIN with unknown data counts as data", C3, "", "0 M unk | 1 M | 2 R empty",
     "stop MultipleMainsWithData; event MultipleMainsWithData",
     "Failed MA=F:MultipleMainsWithData RR=U:MainUnavailable RH=T:Healthy rq=30", NULL, -1},
    {"silent pod does not hide two MAINs with data", C3, "", "0 M | 1 ? | 2 M",
     "stop MultipleMainsWithData; event MultipleMainsWithData",
     "Failed MA=F:MultipleMainsWithData RR=U:MainUnavailable RH=T:Healthy rq=30", NULL, -1},

    /* ---- first registrations ---- */
    {"register replicas after bootstrap (ASYNC)", C3, "mg-0", "0 M empty | 1 R empty | 2 R empty",
     "register mg-0 mg_1 ASYNC mg-1 NotRegistered; register mg-0 mg_2 ASYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1",
     "label mg-1 replica; label mg-2 replica", 3},
    {"one SYNC, the rest ASYNC", 3, 1, 'S', 'A', "mg-0", "0 M empty | 1 R empty | 2 R empty",
     "register mg-0 mg_1 SYNC mg-1 NotRegistered; register mg-0 mg_2 ASYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"all STRICT_SYNC", 3, 0, 'S', 'X', "mg-0", "0 M empty | 1 R empty | 2 R empty",
     "register mg-0 mg_1 STRICT_SYNC mg-1 NotRegistered; register mg-0 mg_2 STRICT_SYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"Memgraph 2.21: SYNC works", 3, 1, 'S', 'A', "mg-0", "0 M v=2.21.0 | 1 R v=2.21.0 | 2 R v=2.21.0",
     "register mg-0 mg_1 SYNC mg-1 NotRegistered; register mg-0 mg_2 ASYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, -1},
    {"STRICT_SYNC on 3.4: refused with a condition", 3, 0, 'S', 'X', "mg-0",
     "0 M v=3.4.0 | 1 R v=3.4.0 | 2 R v=3.4.0", "event StrictSyncUnsupported",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:StrictSyncUnsupported rq=5", NULL, -1},
    {"STRICT_SYNC slot skips a replica too old for it", 3, 1, 'X', 'A', "mg-0", "0 M | 1 R v=3.4.0 | 2 R",
     "register mg-0 mg_1 ASYNC mg-1 NotRegistered; register mg-0 mg_2 STRICT_SYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, -1},
    {"STRICT_SYNC refused and a diverged replica: both reported", 3, 1, 'X', 'A', "mg-0",
     "0 M v=3.4.0 reg=1:X:diverged | 1 R | 2 R",
     "reseed mg-1 mg_1 ReplicaDiverged; event ReplicaDiverged; event StrictSyncUnsupported",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaDiverged rq=5", NULL, 3},
    {"diverged replica registered with a wrong mode: re-seed first", C3, "mg-0",
     "0 M reg=1:S:diverged reg=2:A:ready | 1 R | 2 R",
     "reseed mg-1 mg_1 ReplicaDiverged; event ReplicaDiverged",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaDiverged rq=5", NULL, 3},
    {"STRICT_SYNC with an old MAIN", 3, 1, 'X', 'A', "mg-0", "0 M v=3.4.9 | 1 R | 2 R",
     "event StrictSyncUnsupported; register mg-0 mg_2 ASYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:StrictSyncUnsupported rq=1", NULL, -1},

    /* ---- steady state ---- */
    {"healthy cluster: nothing to do", C3, "mg-0", "0 M reg=1:A:ready reg=2:A:ready | 1 R | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", 3},
    {"replicating counts as in sync", C3, "mg-0", "0 M reg=1:A:replicating reg=2:A:ready | 1 R | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", 3},
    /* Under write load a streaming replica is often a few commits behind: that is Memgraph's "ready", not a
     * degraded cluster (watched closely: rq=1). */
    {"a lagging replica that still streams is ready", C3, "mg-0",
     "0 M reg=1:A:ready:-7 reg=2:A:replicating:-2 | 1 R | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=1", "", 3},
    {"an invalid replica is not ready nor readable", C3, "mg-0",
     "0 M reg=1:A:invalid:-7 reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaInvalid rq=5", "label mg-1 replica", 3},
    {"recovering replica far behind is not ready nor readable", C3, "mg-0",
     "0 M reg=1:A:recovery:-5000 reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "label mg-1 replica", 3},
    {"an ASYNC replica in a short recovery (catching up under load) stays ready and readable", C3, "mg-0",
     "0 M reg=1:A:recovery:-3 reg=2:A:ready | 1 R | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=1", "", 3},
    {"single instance", 1, 0, 'S', 'A', "mg-0", "0 M", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", 1},
    {"SYNC holder kept while healthy", 3, 1, 'S', 'A', "mg-0", "0 M reg=1:A:ready reg=2:S:ready | 1 R | 2 R",
     "", "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", 3},
    {"SYNC moves to a healthy replica", 3, 1, 'S', 'A', "mg-0",
     "0 M reg=1:S:invalid reg=2:A:ready | 1 R notready | 2 R",
     "drop mg-0 mg_1 WrongMode; drop mg-0 mg_2 WrongMode; register mg-0 mg_1 ASYNC mg-1 WrongMode; "
     "register mg-0 mg_2 SYNC mg-2 WrongMode",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"syncMode changed to STRICT_SYNC: every drop before any register", 3, 2, 'X', 'A', "mg-0",
     "0 M reg=1:S:ready reg=2:S:ready | 1 R | 2 R",
     "drop mg-0 mg_1 WrongMode; drop mg-0 mg_2 WrongMode; register mg-0 mg_1 STRICT_SYNC mg-1 WrongMode; "
     "register mg-0 mg_2 STRICT_SYNC mg-2 WrongMode",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"SYNC not moved to an unreachable replica", 3, 1, 'S', 'A', "mg-0",
     "0 M reg=1:S:ready reg=2:A:invalid | 1 R | 2 ?", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=5", NULL, 3},

    /* ---- repairing registrations ---- */
    {"wrong mode: drop and register", C3, "mg-0", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "drop mg-0 mg_1 WrongMode; register mg-0 mg_1 ASYNC mg-1 WrongMode",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"wrong address: drop and register", C3, "mg-0", "0 M reg=1:A:ready:badaddr reg=2:A:ready | 1 R | 2 R",
     "drop mg-0 mg_1 WrongAddress; register mg-0 mg_1 ASYNC mg-1 WrongAddress",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"wrong address of an unreachable replica: drop only", C3, "mg-0",
     "0 M reg=1:A:invalid:badaddr reg=2:A:ready | 1 ? | 2 R", "drop mg-0 mg_1 WrongAddress",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"failed but listed registration", C3, "mg-0", "0 M reg=1:A:invalid:nodata reg=2:A:ready | 1 R | 2 R",
     "drop mg-0 mg_1 BrokenRegistration; register mg-0 mg_1 ASYNC mg-1 BrokenRegistration",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"partial registration: one of two listed", C3, "mg-0", "0 M reg=2:A:ready | 1 R | 2 R",
     "register mg-0 mg_1 ASYNC mg-1 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "label mg-1 replica", 3},
    {"replica pod restarted, MAIN says invalid", C3, "mg-0",
     "0 M reg=1:A:invalid reg=2:A:ready | 1 R uid=u1b reg-uid=u1 | 2 R",
     "drop mg-0 mg_1 PodRestarted; register mg-0 mg_1 ASYNC mg-1 PodRestarted",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"replica container restarted and healed", C3, "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready | 1 R restarts=2 reg-restarts=1 | 2 R",
     "record_registration mg-1 RestartHealed",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", 3},
    {"invalid without a restart: report, let Memgraph recover", C3, "mg-0",
     "0 M reg=1:A:invalid:-4 reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaInvalid rq=5", "label mg-1 replica", 3},
    {"healthy a moment ago, invalid now (a late heartbeat on a loaded machine): still ready, still readable",
     C3, "mg-0", "0 M reg=1:A:invalid:-4 reg=2:A:ready | 1 R graced | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", 3},
    {"a SYNC replica in recovery missed acknowledged commits: the grace does not keep its SYNC slot", 3, 1,
     'S', 'A', "mg-0", "0 M reg=1:S:recovery:-2 reg=2:A:ready | 1 R graced | 2 R",
     "drop mg-0 mg_1 WrongMode; drop mg-0 mg_2 WrongMode; register mg-0 mg_1 ASYNC mg-1 WrongMode; "
     "register mg-0 mg_2 SYNC mg-2 WrongMode",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"invalid just under the bound: still Memgraph's to heal", C3, "mg-0",
     "0 M reg=1:A:invalid:-4 reg=2:A:ready | 1 R invalid-for=9999 | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaInvalid rq=5", "label mg-1 replica", 3},
    {"invalid for 10 s while it answers as a REPLICA (it lost the MAIN's identity): registered again", C3,
     "mg-0", "0 M reg=1:A:invalid:-4 reg=2:A:ready | 1 R invalid-for=10000 | 2 R",
     "drop mg-0 mg_1 StuckInvalid; register mg-0 mg_1 ASYNC mg-1 StuckInvalid",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "label mg-1 replica", 3},
    {"a replica that acted as a MAIN since its registration: registered again, even when listed ready", C3,
     "mg-0", "0 M reg=1:A:ready reg=2:A:ready | 1 R wasmain | 2 R",
     "drop mg-0 mg_1 ActedAsMain; register mg-0 mg_1 ASYNC mg-1 ActedAsMain",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=1", NULL, 3},
    {"registration the operator never recorded, healthy: adopt", C3, "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready | 1 R noreg | 2 R", "record_registration mg-1 RegistrationAdopted",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", NULL, 3},
    {"registration the operator never recorded, invalid: re-register", C3, "mg-0",
     "0 M reg=1:A:invalid reg=2:A:ready | 1 R noreg | 2 R",
     "drop mg-0 mg_1 RegistrationInvalid; register mg-0 mg_1 ASYNC mg-1 RegistrationInvalid",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"diverged replica: condition, event, re-seed hook", C3, "mg-0",
     "0 M reg=1:A:diverged reg=2:A:ready | 1 R | 2 R",
     "reseed mg-1 mg_1 ReplicaDiverged; event ReplicaDiverged",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaDiverged rq=5", "label mg-1 replica", 3},
    {"unreachable registered replica: wait", C3, "mg-0", "0 M reg=1:A:invalid reg=2:A:ready | 1 ? | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=5", "", 3},
    {"replica pod missing", C3, "mg-0", "0 M reg=1:A:invalid reg=2:A:ready | 1 - | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=5", NULL, 3},
    {"foreign registration dropped", C3, "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready reg=intruder:A:ready | 1 R | 2 R", "drop mg-0 intruder NotDesired",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=1", NULL, 3},
    {"SHOW REPLICAS failed on the MAIN", C3, "mg-0", "0 M norepl | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=U:ReplicasUnknown RH=T:Healthy rq=5", NULL, 3},

    /* ---- several MAINs ---- */
    {"unexpected second MAIN with data: reported, fenced, demoted", C3, "mg-0",
     "0 M reg=1:A:ready | 1 M | 2 R", "event MultipleMainsObserved; demote mg-1 port=10000 SecondMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=F:MultipleMainsObserved rq=0",
     "label mg-1 unknown", 3},
    {"second MAIN still labelled as a readable replica: off the read Service too before demotion", C3, "mg-0",
     "0 M reg=1:A:ready | 1 M lbl=replica | 2 R",
     "event MultipleMainsObserved; demote mg-1 port=10000 SecondMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=F:MultipleMainsObserved rq=0",
     "label mg-1 unknown", 3},
    {"second MAIN labelled as a non-readable replica: nothing to take away", C3, "mg-0",
     "0 M reg=1:A:ready | 1 M lbl=replica- | 2 R",
     "event MultipleMainsObserved; demote mg-1 port=10000 SecondMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=F:MultipleMainsObserved rq=0", "", 3},
    {"second MAIN without labels: nothing to take away", C3, "mg-0", "0 M reg=1:A:ready | 1 M lbl=none | 2 R",
     "event MultipleMainsObserved; demote mg-1 port=10000 SecondMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=F:MultipleMainsObserved rq=0", "", 3},
    {"recorded MAIN is a REPLICA and two others are MAIN: stop", C3, "mg-0", "0 R | 1 M | 2 M",
     "stop MultipleMainsWithData; event MultipleMainsWithData",
     "Failed MA=F:MultipleMainsWithData RR=U:MainUnavailable RH=T:Healthy rq=30",
     "label mg-1 unknown; label mg-2 unknown", 3},
    {"replica came back as an empty MAIN: demote", C3, "mg-0",
     "0 M reg=1:A:invalid reg=2:A:ready | 1 M empty | 2 R", "demote mg-1 port=10000 EmptyMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", 3},
    {"recorded MAIN is a REPLICA, another MAIN has data: adopt", C3, "mg-0", "0 R | 1 M reg=2:A:ready | 2 R",
     "record_main mg-1 ObservedMainChanged; event ObservedMainChanged; register mg-1 mg_0 ASYNC mg-0 "
     "NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "label mg-0 replica", 3},
    {"recorded MAIN is a REPLICA and no MAIN exists: promote it back", C3, "mg-0", "0 R | 1 R | 2 R",
     "promote mg-0 PromoteChosenMain",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", 3},
    {"recorded MAIN is a REPLICA, a silent pod might be MAIN: wait", C3, "mg-0", "0 R | 1 ? | 2 R", "",
     "Degraded MA=F:WaitingForInstances RR=U:MainUnavailable RH=T:Healthy rq=5", "", 3},
    /* The restarted MAIN came back fenced while a replica is down: that replica was last listed as a
     * replica, so it is no MAIN someone else promoted: promote the MAIN back without waiting for it. */
    {"recorded MAIN came back fenced, a silent pod was its replica: promote it back", C3, "mg-0",
     "0 R | 1 ? last=S | 2 R last=A", "promote mg-0 PromoteChosenMain",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", 3},
    {"recorded MAIN came back empty while replicas hold data: stop", C3, "mg-0", "0 M empty | 1 R | 2 R",
     "stop MainDataLost; event MainDataLost",
     "Failed MA=F:MainDataLost RR=U:MainUnavailable RH=T:Healthy rq=30", "label mg-0 unknown", 3},
    {"recorded MAIN empty, replicas empty: a new cluster", C3, "mg-0",
     "0 M empty | 1 R empty | 2 R empty lbl=none",
     "register mg-0 mg_1 ASYNC mg-1 NotRegistered; register mg-0 mg_2 ASYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1",
     "label mg-1 replica; label mg-2 replica", 3},
    {"MAIN restarted: replicas reloaded from its state, still invalid", C3, "mg-0",
     "0 M restarts=1 reg=1:A:invalid reg=2:A:invalid | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaInvalid rq=5",
     "label mg-1 replica; label mg-2 replica", 3},
    {"MAIN restarted: replication clients missing", C3, "mg-0",
     "0 M restarts=1 reg=1:A:invalid:nodata reg=2:A:ready | 1 R | 2 R",
     "drop mg-0 mg_1 BrokenRegistration; register mg-0 mg_1 ASYNC mg-1 BrokenRegistration",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},
    {"recorded MAIN lost its data: stop", C3, "mg-0", "0 R empty | 1 R | 2 R",
     "stop MainDataLost; event MainDataLost",
     "Failed MA=F:MainDataLost RR=U:MainUnavailable RH=T:Healthy rq=30", "", 3},

    /* ---- MAIN unavailable, within the failover delay: report and watch ---- */
    {"MAIN unreachable: report, no promotion", C3, "mg-0", "0 ? | 1 R | 2 R", "",
     "Degraded MA=F:MainUnreachable RR=U:MainUnavailable RH=T:Healthy rq=1", "", 3},
    {"MAIN pod missing", C3, "mg-0", "0 - | 1 R | 2 R", "",
     "Degraded MA=F:MainPodMissing RR=U:MainUnavailable RH=T:Healthy rq=1", "", 3},
    {"MAIN answers but pod not ready", C3, "mg-0", "0 M notready reg=1:A:ready reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=F:MainNotReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", 3},
    {"MAIN unreachable, a fresh empty MAIN loses its main label", C3, "mg-0",
     "0 ? | 1 M empty lbl=main | 2 R", "",
     "Degraded MA=F:MainUnreachable RR=U:MainUnavailable RH=T:Healthy rq=1", "label mg-1 unknown", 3},

    /* ---- failover ---- */
    {"failover: MAIN unreachable within the delay: watch", 3, 1, 'S', 'A', "mg-0",
     "@ down=5000 | 0 ? | 1 R last=S | 2 R last=A", "",
     "Degraded MA=F:MainUnreachable RR=U:MainUnavailable RH=T:Healthy rq=1", "", -1},
    {"failover: MAIN unreachable past the delay: fence, record, promote the in-sync SYNC replica", 3, 1, 'S',
     'A', "mg-0", "@ down=15000 | 0 ? | 1 R last=A ts=9 | 2 R last=S ts=5",
     "event FailoverStarted; record_main mg-2 MainUnreachable; kill_pod mg-0 FencedForFailover; promote mg-2 "
     "MainUnreachable",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"failover: frozen MAIN still labelled main is fenced first", 3, 1, 'S', 'A', "mg-0",
     "@ down=15000 | 0 ? lbl=main | 1 R last=S | 2 R last=A",
     "event FailoverStarted; record_main mg-1 MainUnreachable; kill_pod mg-0 FencedForFailover; promote mg-1 "
     "MainUnreachable",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "label mg-0 unknown", -1},
    /* A crash (the container ended) is failed over at once when a SYNC replica holds every acknowledged
     * write; without one it waits like any outage (the restarted MAIN comes back fenced: nothing lost). */
    {"failover: crashed MAIN with an in-sync SYNC replica: at once", 3, 1, 'S', 'A', "mg-0",
     "@ down=300 | 0 ? crashed | 1 R last=S | 2 R last=A",
     "event FailoverStarted; record_main mg-1 MainCrashed; promote mg-1 MainCrashed",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"failover: crashed MAIN, only ASYNC replicas: wait the delay", 3, 0, 'S', 'A', "mg-0",
     "@ down=300 | 0 ? crashed | 1 R last=A | 2 R last=A", "",
     "Degraded MA=F:MainUnreachable RR=U:MainUnavailable RH=T:Healthy rq=1", "", -1},
    {"failover: crashed MAIN, its SYNC replica lagging: wait the delay", 3, 1, 'S', 'A', "mg-0",
     "@ down=300 | 0 ? crashed | 1 R last=S:2 | 2 R last=A", "",
     "Degraded MA=F:MainUnreachable RR=U:MainUnavailable RH=T:Healthy rq=1", "", -1},
    {"failover: MAIN pod already being deleted: nothing to kill", 3, 1, 'S', 'A', "mg-0",
     "@ down=15000 | 0 ? term | 1 R last=S | 2 R last=A",
     "event FailoverStarted; record_main mg-1 MainUnreachable; promote mg-1 MainUnreachable",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"failover: MAIN pod missing past the delay", 3, 1, 'S', 'A', "mg-0",
     "@ down=20000 | 0 - | 1 R last=S | 2 R last=A",
     "event FailoverStarted; record_main mg-1 MainPodMissing; promote mg-1 MainPodMissing",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"failover: no SYNC replica in sync: blocked", 3, 1, 'S', 'A', "mg-0",
     "@ down=20000 | 0 ? | 1 R last=S:3 | 2 R last=A", "event FailoverBlocked",
     "Degraded MA=F:FailoverBlocked RR=U:MainUnavailable RH=T:Healthy rq=5", "", -1},
    {"failover: ASYNC promotion allowed within maxAsyncLag", C3, "mg-0",
     "@ down=20000 async=5 | 0 ? | 1 R last=A:3 ts=7 | 2 R last=A:9 ts=1",
     "event FailoverStarted; record_main mg-1 MainUnreachable; kill_pod mg-0 FencedForFailover; promote mg-1 "
     "MainUnreachable",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"failover: ASYNC beyond maxAsyncLag: blocked", C3, "mg-0",
     "@ down=20000 async=2 | 0 ? | 1 R last=A:3 | 2 R last=A:9", "event FailoverBlocked",
     "Degraded MA=F:FailoverBlocked RR=U:MainUnavailable RH=T:Healthy rq=5", "", -1},
    {"failover: disabled: report only", 3, 1, 'S', 'A', "mg-0",
     "@ down=99000 noauto | 0 ? | 1 R last=S | 2 R last=A", "",
     "Degraded MA=F:MainUnreachable RR=U:MainUnavailable RH=T:Healthy rq=5", "", -1},
    {"failover: replicas never seen registered are no candidates", 3, 1, 'S', 'A', "mg-0",
     "@ down=20000 | 0 ? | 1 R | 2 R", "event FailoverBlocked",
     "Degraded MA=F:FailoverBlocked RR=U:MainUnavailable RH=T:Healthy rq=5", "", -1},
    {"failover: a not-ready replica is no candidate", 3, 1, 'S', 'A', "mg-0",
     "@ down=20000 | 0 ? | 1 R notready last=S | 2 R last=A", "event FailoverBlocked",
     "Degraded MA=F:FailoverBlocked RR=U:MainUnavailable RH=T:Healthy rq=5", "", -1},
    {"failover: the newest of two SYNC replicas wins", 3, 2, 'S', 'A', "mg-0",
     "@ down=20000 | 0 ? | 1 R last=S ts=4 | 2 R last=S ts=8",
     "event FailoverStarted; record_main mg-2 MainUnreachable; kill_pod mg-0 FencedForFailover; promote mg-2 "
     "MainUnreachable",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"failover: STRICT_SYNC replica promoted", 3, 1, 'X', 'A', "mg-0",
     "@ down=20000 | 0 ? | 1 R last=A | 2 R last=X",
     "event FailoverStarted; record_main mg-2 MainUnreachable; kill_pod mg-0 FencedForFailover; promote mg-2 "
     "MainUnreachable",
     "Degraded MA=F:FailoverInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"after failover: the new MAIN registers the others while the fenced MAIN is silent", 3, 1, 'S', 'A',
     "mg-1", "@ fenced=mg-0 | 0 ? | 1 M | 2 R", "register mg-1 mg_2 SYNC mg-2 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "label mg-2 replica", -1},
    {"operator restarted mid-failover: the recorded candidate is promoted despite the silent fenced MAIN", 3,
     1, 'S', 'A', "mg-1", "@ fenced=mg-0 | 0 ? | 1 R | 2 R", "promote mg-1 PromoteChosenMain",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", -1},
    {"fenced old MAIN returns as MAIN with data: off the Services, demoted, no alarm", 3, 1, 'S', 'A', "mg-1",
     "@ fenced=mg-0 | 0 M | 1 M reg=2:S:ready | 2 R", "demote mg-0 port=10000 FencedMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "label mg-0 unknown", -1},
    {"old MAIN diverged at registration: re-seed", 3, 1, 'S', 'A', "mg-1",
     "@ fenced=mg-0 | 0 R regdiv | 1 M reg=2:S:ready | 2 R",
     "reseed mg-0 mg_0 ReplicaDiverged; event ReplicaDiverged",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaDiverged rq=5", "label mg-0 replica", -1},
    {"diverged again right after re-seeds: rate-limited, reported", 3, 1, 'S', 'A', "mg-1",
     "@ fenced=mg-0 | 0 R regdiv reseedheld | 1 M reg=2:S:ready | 2 R",
     "event ReseedRateLimited; event ReplicaDiverged",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaDiverged rq=5", "label mg-0 replica", -1},
    {"diverged with reseedPolicy Manual: report only", 3, 1, 'S', 'A', "mg-1",
     "@ fenced=mg-0 manual | 0 R regdiv | 1 M reg=2:S:ready | 2 R", "event ReplicaDiverged",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaDiverged rq=5", "label mg-0 replica", -1},
    {"re-seeded pod still listed as diverged: drop and register", 3, 1, 'S', 'A', "mg-1",
     "0 R uid=new reg-uid=u0 | 1 M reg=0:A:diverged reg=2:S:ready | 2 R",
     "drop mg-1 mg_0 PodReplaced; register mg-1 mg_0 ASYNC mg-0 PodReplaced",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "label mg-0 replica", -1},

    /* ---- switchover and rolling updates ---- */
    {"switchover requested, target caught up in SYNC: fence, demote, record, promote", 3, 1, 'S', 'A', "mg-0",
     "@ switch=1 | 0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "demote mg-0 port=10000 Switchover; record_main mg-1 Requested; promote mg-1 Requested",
     "Degraded MA=F:SwitchoverInProgress RR=T:AllReplicasReady RH=T:Healthy rq=0",
     "label mg-0 unknown readable", -1},
    {"switchover requested to an ASYNC replica: registered SYNC first", 3, 1, 'S', 'A', "mg-0",
     "@ switch=2 | 0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "drop mg-0 mg_2 WrongMode; register mg-0 mg_2 SYNC mg-2 WrongMode",
     "Degraded MA=T:MainReady RR=F:SwitchoverPending RH=T:Healthy rq=1", "", -1},
    /* The SYNC holder a few commits behind under load keeps its slot (no re-registration churn). */
    {"switchover waits while the target lags", 3, 1, 'S', 'A', "mg-0",
     "@ switch=1 | 0 M reg=1:S:ready:-3 reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:SwitchoverPending RH=T:Healthy rq=1", "", -1},
    {"switchover to the current MAIN: nothing to do", 3, 1, 'S', 'A', "mg-0",
     "@ switch=0 | 0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "", -1},
    {"switchover target not ready: wait", 3, 1, 'S', 'A', "mg-0",
     "@ switch=1 | 0 M reg=1:S:ready reg=2:A:ready | 1 R notready | 2 R",
     "drop mg-0 mg_2 WrongMode; register mg-0 mg_2 SYNC mg-2 WrongMode",
     "Degraded MA=T:MainReady RR=F:SwitchoverPending RH=T:Healthy rq=1", "", -1},
    {"scale down across the MAIN, target caught up: switch over", 2, 1, 'S', 'A', "mg-2",
     "0 R | 1 R | 2 M reg=0:S:ready reg=1:A:ready",
     "demote mg-2 port=10000 Switchover; record_main mg-0 ScaleDown; promote mg-0 ScaleDown",
     "Degraded MA=F:SwitchoverInProgress RR=F:ReplicasMissing RH=T:Healthy rq=0",
     "label mg-2 unknown readable", -1},
    {"rolling update: the highest outdated replica restarts first", 3, 1, 'S', 'A', "mg-0",
     "0 M old reg=1:S:ready reg=2:A:ready | 1 R old | 2 R old", "delete_pod mg-2 RollingUpdate",
     "Degraded MA=T:MainReady RR=F:RollingUpdate RH=T:Healthy rq=5", "", -1},
    {"rolling update waits while a replica recovers far behind", 3, 1, 'S', 'A', "mg-0",
     "0 M old reg=1:S:ready reg=2:A:recovery:-2000 | 1 R old | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "label mg-2 replica", -1},
    {"rolling update goes on while an ASYNC replica streams a few commits behind", 3, 1, 'S', 'A', "mg-0",
     "0 M old reg=1:S:ready reg=2:A:ready:-2 | 1 R old | 2 R", "delete_pod mg-1 RollingUpdate",
     "Degraded MA=T:MainReady RR=F:RollingUpdate RH=T:Healthy rq=1", "", -1},
    {"rolling update: only the MAIN left: switch over to a caught-up replica", 3, 1, 'S', 'A', "mg-0",
     "0 M old reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "demote mg-0 port=10000 Switchover; record_main mg-1 RollingUpdate; promote mg-1 RollingUpdate",
     "Degraded MA=F:SwitchoverInProgress RR=T:AllReplicasReady RH=T:Healthy rq=0",
     "label mg-0 unknown readable", -1},
    {"rolling update, Supervised: the MAIN waits for approval", 3, 1, 'S', 'A', "mg-0",
     "@ supervised | 0 M old reg=1:S:ready reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:AwaitingMainUpdateApproval RH=T:Healthy rq=5", "", -1},
    {"rolling update, Supervised and approved: switch over", 3, 1, 'S', 'A', "mg-0",
     "@ supervised approved | 0 M old reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "demote mg-0 port=10000 Switchover; record_main mg-1 RollingUpdate; promote mg-1 RollingUpdate",
     "Degraded MA=F:SwitchoverInProgress RR=T:AllReplicasReady RH=T:Healthy rq=0",
     "label mg-0 unknown readable", -1},
    {"rolling update: the old MAIN, now a replica, restarts last", 3, 1, 'S', 'A', "mg-1",
     "0 R old | 1 M reg=0:A:ready reg=2:S:ready | 2 R", "delete_pod mg-0 RollingUpdate",
     "Degraded MA=T:MainReady RR=F:RollingUpdate RH=T:Healthy rq=5", "", -1},

    /* ---- scaling ---- */
    {"scale up 3->5: new empty MAINs demoted", 5, 0, 'S', 'A', "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready | 1 R | 2 R | 3 M empty | 4 M empty",
     "demote mg-3 port=10000 EmptyMainDemoted; demote mg-4 port=10000 EmptyMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", "", 5},
    {"scale up 3->5: register the new replicas", 5, 0, 'S', 'A', "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready | 1 R | 2 R | 3 R empty | 4 R empty",
     "register mg-0 mg_3 ASYNC mg-3 NotRegistered; register mg-0 mg_4 ASYNC mg-4 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1",
     "label mg-3 replica; label mg-4 replica", 5},
    {"scale up before the new pods exist", 5, 0, 'S', 'A', "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:ReplicasMissing RH=T:Healthy rq=5", "", 5},
    {"scale down 5->2: drop before the pods go", 2, 0, 'S', 'A', "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready reg=3:A:ready reg=4:A:ready | 1 R | 2 R | 3 R | 4 R",
     "drop mg-0 mg_2 NotDesired; drop mg-0 mg_3 NotDesired; drop mg-0 mg_4 NotDesired",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=1", NULL, 5},
    {"scale down 5->2 after the drops: pods may go", 2, 0, 'S', 'A', "mg-0",
     "0 M reg=1:A:ready | 1 R | 2 R | 3 R | 4 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5",
     "label mg-2 replica; label mg-3 replica; label mg-4 replica", 2},
    {"scale down across the MAIN: the switchover target is made SYNC first", 2, 0, 'S', 'A', "mg-2",
     "0 R | 1 R | 2 M reg=0:A:ready reg=1:A:ready",
     "drop mg-2 mg_0 WrongMode; register mg-2 mg_0 SYNC mg-0 WrongMode",
     "Degraded MA=T:MainReady RR=F:SwitchoverPending RH=T:Healthy rq=1", "", 3},
    {"scale down while the MAIN is unreachable keeps every pod", 2, 0, 'S', 'A', "mg-0",
     "0 ? | 1 R | 2 R | 3 R", "", "Degraded MA=F:MainUnreachable RR=U:MainUnavailable RH=T:Healthy rq=1",
     NULL, 4},
    {"scale down: a leaving empty MAIN is demoted first", 2, 0, 'S', 'A', "mg-0",
     "0 M reg=1:A:ready | 1 R | 2 M empty", "demote mg-2 port=10000 EmptyMainDemoted",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy rq=0", NULL, 2},

    /* ---- labels ---- */
    {"stale main label on a replica is corrected", C3, "mg-0",
     "0 M reg=1:A:ready reg=2:A:ready | 1 R lbl=main | 2 R lbl=none", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5",
     "label mg-1 replica readable; label mg-2 replica readable", 3},
    {"MAIN without labels gets them", C3, "mg-0", "0 M lbl=none reg=1:A:ready reg=2:A:ready | 1 R | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy rq=5", "label mg-0 main readable", 3},
    {"a new MAIN joins the write Service in the pass that registers its SYNC replica (after the REGISTER)", 3,
     1, 'S', 'A', "mg-2", "0 ? | 1 R | 2 M lbl=none", "register mg-2 mg_1 SYNC mg-1 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1",
     "label mg-1 replica; label mg-2 main readable", -1},
    /* CI: the third pod missed one probe right after a failover; it lost the SYNC slot to the dead old MAIN,
     * was registered ASYNC, and the new MAIN acknowledged writes with no SYNC replica (issue 11). */
    {"a new MAIN waits for its SYNC replica that missed one probe but answered as a REPLICA moments ago", 3,
     1, 'S', 'A', "mg-2", "0 ? | 1 ? podready lately-replica | 2 M lbl=none", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", "", -1},
    {"... and not for one silent longer than the grace: the MAIN takes writes without it", 3, 1, 'S', 'A',
     "mg-2", "0 ? | 1 ? podready | 2 M lbl=none", "",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=5", "label mg-2 main readable", -1},
    {"... and the SYNC slot goes to an answering replica before a briefly silent one", 3, 1, 'S', 'A', "mg-2",
     "0 ? podready lately-replica | 1 R | 2 M lbl=none", "register mg-2 mg_1 SYNC mg-1 NotRegistered",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1",
     "label mg-1 replica; label mg-2 main readable", -1},
    {"a new MAIN whose SHOW REPLICAS does not answer stays off the write Service", 3, 1, 'S', 'A', "mg-2",
     "0 ? | 1 R | 2 M lbl=none norepl", "", "Degraded MA=T:MainReady RR=U:ReplicasUnknown RH=T:Healthy rq=5",
     "", -1},

    /* ---- a new cluster is Initializing until it was first Ready ---- */
    {"replicas of a new cluster register: Initializing, not Degraded", C3, "mg-0",
     "@ initializing | 0 M empty | 1 R empty | 2 R empty",
     "register mg-0 mg_1 ASYNC mg-1 NotRegistered; register mg-0 mg_2 ASYNC mg-2 NotRegistered",
     "Initializing MA=T:MainReady RR=F:ReplicasNotReady RH=T:Healthy rq=1", NULL, 3},

    /* ---- hibernation (memgraph.io/hibernation) ---- */
    {"hibernate: no pods, nothing else planned", 3, 1, 'S', 'A', "mg-0",
     "@ hibernate | 0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R", "",
     "Hibernated MA=F:Hibernated RR=F:Hibernated RH=T:Healthy HB=T:Hibernated rq=5", "", 0},
    {"hibernating: a MAIN gone past the delay is not failed over", 3, 1, 'S', 'A', "mg-0",
     "@ hibernate down=15000 | 0 ? | 1 R last=S | 2 R last=A", "",
     "Hibernated MA=F:Hibernated RR=F:Hibernated RH=T:Healthy HB=T:Hibernated rq=5", "", 0},
    {"resuming: the recorded MAIN has no pod yet: wait, no failover", 3, 1, 'S', 'A', "mg-0",
     "@ resuming down=15000 | 0 - | 1 R last=S | 2 R last=A", "",
     "Degraded MA=F:Resuming RR=U:MainUnavailable RH=T:Healthy HB=F:Resuming rq=5", "", 3},
    {"resuming: the recorded MAIN is back (fenced, a REPLICA): promoted again", 3, 1, 'S', 'A', "mg-0",
     "@ resuming | 0 R lbl=replica- | 1 R last=S | 2 R last=A", "promote mg-0 PromoteChosenMain",
     "Degraded MA=F:RoleChangeInProgress RR=U:MainUnavailable RH=T:Healthy HB=F:Resumed rq=0", NULL, 3},

    /* ---- fencing by the user (memgraph.io/fencedInstances) ---- */
    {"fenced MAIN: off the Services and demoted, no failover", 3, 1, 'S', 'A', "mg-0",
     "@ userfence=mg-0 | 0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "demote mg-0 port=10000 InstanceFenced",
     "Degraded MA=F:MainFenced RR=U:MainUnavailable RH=T:Healthy FN=T:InstancesFenced rq=0",
     "label mg-0 unknown", 3},
    {"fenced MAIN, demoted: stays so past the failover delay", 3, 1, 'S', 'A', "mg-0",
     "@ userfence=mg-0 down=15000 | 0 R lbl=replica- | 1 R last=S | 2 R last=A", "",
     "Degraded MA=F:MainFenced RR=U:MainUnavailable RH=T:Healthy FN=T:InstancesFenced rq=5", "", 3},
    {"fenced replica: off the read Service, still replicating", 3, 1, 'S', 'A', "mg-0",
     "@ userfence=mg-1 | 0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R", "",
     "Running MA=T:MainReady RR=T:AllReplicasReady RH=T:Healthy FN=T:InstancesFenced rq=5",
     "label mg-1 replica", 3},
    {"failover never promotes a fenced replica", 3, 1, 'S', 'A', "mg-0",
     "@ userfence=mg-1 down=15000 | 0 ? | 1 R last=S | 2 R last=A", "event FailoverBlocked",
     "Degraded MA=F:FailoverBlocked RR=U:MainUnavailable RH=T:Healthy FN=T:InstancesFenced rq=5",
     "label mg-1 replica", -1},
    {"fence all: the MAIN is demoted", C3, "mg-0", "@ fenceall | 0 M reg=1:A:ready reg=2:A:ready | 1 R | 2 R",
     "demote mg-0 port=10000 InstanceFenced",
     "Degraded MA=F:MainFenced RR=U:MainUnavailable RH=T:Healthy FN=T:InstancesFenced rq=0",
     "label mg-0 unknown", 3},
    {"bootstrap waits while an instance is fenced (it may hold the data)", C3, "",
     "@ userfence=mg-2 | 0 M empty | 1 M empty | 2 M empty", "demote mg-2 port=10000 InstanceFenced",
     "Initializing MA=F:InstancesFenced RR=U:MainUnavailable RH=T:Healthy FN=T:InstancesFenced rq=0",
     "label mg-2 unknown", 3},
    {"switchover to a fenced replica waits", 3, 1, 'S', 'A', "mg-0",
     "@ switch=1 userfence=mg-1 | 0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R", "",
     "Degraded MA=T:MainReady RR=F:SwitchoverPending RH=T:Healthy FN=T:InstancesFenced rq=5",
     "label mg-1 replica", 3},
    {"rolling update keeps a fenced pod as it is", C3, "mg-0",
     "@ userfence=mg-2 | 0 M reg=1:A:ready reg=2:A:ready | 1 R old | 2 R old",
     "delete_pod mg-1 RollingUpdate",
     "Degraded MA=T:MainReady RR=F:RollingUpdate RH=T:Healthy FN=T:InstancesFenced rq=5", NULL, 3},
    {"a diverged fenced replica is reported, not re-seeded", C3, "mg-0",
     "@ userfence=mg-1 | 0 M reg=1:A:diverged reg=2:A:ready | 1 R | 2 R", "event ReplicaDiverged",
     "Degraded MA=T:MainReady RR=F:ReplicasNotReady RH=F:ReplicaDiverged FN=T:InstancesFenced rq=5", NULL, 3},
};

static void make_cluster(const struct topo_case *tc, struct mgo_cluster *c)
{
  notation_cluster(c, tc->instances, tc->sync, tc->sync_mode, tc->mode, tc->recorded);
  notation_spec(c, tc->observed);
}

/* ---- rendering the plan ----------------------------------------------------------------------- */

static void append(char *dst, size_t dstsz, const char *item)
{
  size_t len = strlen(dst);
  snprintf(dst + len, dstsz - len, "%s%s", len > 0 ? "; " : "", item);
}

static void cut_addresses(char *line)
{
  const char *suffix = ".mg-hl.db.svc:10000";
  char *p = strstr(line, suffix);
  if (p != NULL)
    memmove(p, p + strlen(suffix), strlen(p + strlen(suffix)) + 1);
}

static const char *short_cond(enum rec_cond_status s)
{
  return s == REC_COND_TRUE ? "T" : s == REC_COND_FALSE ? "F" : "U";
}

static void render(const struct rec_plan *plan, char *actions, char *status, char *labels, size_t sz)
{
  char phase[32] = "", conds[5][96] = {"", "", "", "", ""}, requeue[16] = "", extra[200] = "";
  static const char *const abbrev[][2] = {{"MainAvailable", "MA"},
                                          {"ReplicasReady", "RR"},
                                          {"ReplicationHealthy", "RH"},
                                          {"Hibernated", "HB"},
                                          {"Fenced", "FN"}};
  actions[0] = status[0] = labels[0] = '\0';
  for (size_t i = 0; i < plan->n; i++) {
    const struct rec_action *a = &plan->a[i];
    char line[512];
    rec_action_format(a, line, sizeof(line));
    cut_addresses(line);
    if (a->type == REC_ACT_LABEL)
      append(labels, sz, line);
    else if (a->type == REC_ACT_PHASE)
      snprintf(phase, sizeof(phase), "%s", a->phase);
    else if (a->type == REC_ACT_REQUEUE)
      snprintf(requeue, sizeof(requeue), "rq=%d", (int) a->after_sec);
    else if (a->type != REC_ACT_CONDITION)
      append(actions, sz, line);
    for (size_t k = 0; a->type == REC_ACT_CONDITION && k < 5; k++) {
      if (strcmp(a->cond_type, abbrev[k][0]) == 0)
        snprintf(conds[k], sizeof(conds[k]), "%s=%s:%s", abbrev[k][1], short_cond(a->cond_status), a->reason);
    }
  }
  for (size_t k = 3; k < 5; k++) /* shown only when the plan has them */
    if (conds[k][0] != '\0')
      snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " %s", conds[k]);
  snprintf(status, sz, "%s %s %s %s%s %s", phase, conds[0], conds[1], conds[2], extra, requeue);
}

/* ---- invariants that hold for every plan ------------------------------------------------------ */

/* Replays the plan's DROP/REGISTER actions on the MAIN's registrations and fails if SYNC and STRICT_SYNC
 * replicas are ever registered together (unless they already were before the plan). */
static bool mixed(const enum mgo_repl_mode *modes, const bool *present, size_t n)
{
  bool sync = false, strict = false;
  for (size_t i = 0; i < n; i++) {
    sync = sync || (present[i] && modes[i] == MGO_MODE_SYNC);
    strict = strict || (present[i] && modes[i] == MGO_MODE_STRICT_SYNC);
  }
  return sync && strict;
}

static size_t slot_of(char names[][MGO_NAME_MAX], size_t *n, const char *name)
{
  for (size_t i = 0; i < *n; i++) {
    if (strcmp(names[i], name) == 0)
      return i;
  }
  mgo_strlcpy(names[*n], name, MGO_NAME_MAX);
  return (*n)++;
}

static void check_never_mixed(const struct topo_case *tc, const struct rec_observed *obs,
                              const struct rec_plan *plan)
{
  char names[2 * MGO_MAX_INSTANCES][MGO_NAME_MAX];
  enum mgo_repl_mode modes[2 * MGO_MAX_INSTANCES];
  bool present[2 * MGO_MAX_INSTANCES] = {false};
  size_t n = 0;
  const struct rec_instance *main = NULL;
  for (size_t i = 0; i < obs->n; i++) {
    if (strcmp(obs->inst[i].pod, plan->main_pod) == 0)
      main = &obs->inst[i];
  }
  for (size_t i = 0; main != NULL && i < main->n_registrations; i++) {
    size_t k = slot_of(names, &n, main->registrations[i].name);
    modes[k] = main->registrations[i].mode;
    present[k] = true;
  }
  if (mixed(modes, present, n))
    return;
  for (size_t i = 0; i < plan->n; i++) {
    const struct rec_action *a = &plan->a[i];
    size_t k;
    if (a->type != REC_ACT_DROP && a->type != REC_ACT_REGISTER)
      continue;
    k = slot_of(names, &n, a->replica);
    present[k] = a->type == REC_ACT_REGISTER;
    modes[k] = a->mode;
    if (mixed(modes, present, n))
      fail_msg("%s: SYNC and STRICT_SYNC registered together after action %zu", tc->name, i);
  }
}

static void check_invariants(const struct topo_case *tc, const struct mgo_cluster *c,
                             const struct rec_plan *plan)
{
  int promotes = 0, registers = 0, role_changes = 0, stops = 0;
  int recorded_ordinal = mgo_pod_ordinal(c, c->recorded_main);
  for (size_t i = 0; i < plan->n; i++) {
    enum rec_action_type t = plan->a[i].type;
    promotes += t == REC_ACT_PROMOTE;
    registers += t == REC_ACT_REGISTER || t == REC_ACT_DROP;
    role_changes += t == REC_ACT_PROMOTE || t == REC_ACT_DEMOTE;
    stops += t == REC_ACT_STOP;
    if (t == REC_ACT_STOP && i != 0)
      fail_msg("%s: STOP is not first", tc->name);
  }
  if (promotes > 1)
    fail_msg("%s: more than one promotion", tc->name);
  if (role_changes > 0 && registers > 0)
    fail_msg("%s: registrations planned together with a role change", tc->name);
  if (stops > 0 && (role_changes > 0 || registers > 0))
    fail_msg("%s: Bolt actions after STOP", tc->name);
  for (size_t i = 0; i < plan->n; i++) {
    const struct rec_action *a = &plan->a[i];
    bool harms = a->type == REC_ACT_PROMOTE || a->type == REC_ACT_RESEED || a->type == REC_ACT_DELETE_POD ||
                 a->type == REC_ACT_KILL_POD ||
                 (a->type == REC_ACT_LABEL && (a->role == MGO_ROLE_MAIN || a->readable));
    if (harms && mgo_cluster_instance_fenced(c, a->pod))
      fail_msg("%s: %s of the user-fenced %s", tc->name, rec_action_type_name(a->type), a->pod);
  }
  if (c->ops.hibernate) {
    if (plan->allowed_pods != 0 || plan->n != 9) /* 7 conditions, phase, requeue */
      fail_msg("%s: hibernated, yet %d pods allowed or actions planned", tc->name, (int) plan->allowed_pods);
  } else if (plan->allowed_pods < c->spec.instances || plan->allowed_pods < recorded_ordinal + 1)
    fail_msg("%s: allowed pods %d would remove the MAIN or desired pods", tc->name, (int) plan->allowed_pods);
  if (plan->a[plan->n - 1].type != REC_ACT_REQUEUE)
    fail_msg("%s: the plan does not end with a requeue", tc->name);
}

static int report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int report(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  (void) vfprintf(stderr, fmt, ap);
  va_end(ap);
  (void) fputc('\n', stderr);
  return 1;
}

static void test_topology_table(void **state)
{
  int mismatches = 0;
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  struct rec_plan *plan = calloc(1, sizeof(*plan));
  char actions[2048], status[512], labels[1024];
  (void) state;
  assert_non_null(obs);
  assert_non_null(plan);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const struct topo_case *tc = &cases[i];
    make_cluster(tc, &c);
    notation_observed(&c, tc->observed, obs);
    assert_int_equal(rec_decide_topology(&c, obs, plan), MGO_OK);
    render(plan, actions, status, labels, sizeof(actions));
    /* Every mismatch of the table is reported before the test fails, so one run shows them all. */
    if (strcmp(actions, tc->actions) != 0)
      mismatches += report("case \"%s\":\n  actions %s\n  want    %s", tc->name, actions, tc->actions);
    if (strcmp(status, tc->status) != 0)
      mismatches += report("case \"%s\":\n  status %s\n  want   %s", tc->name, status, tc->status);
    if (tc->labels != NULL && strcmp(labels, tc->labels) != 0)
      mismatches += report("case \"%s\":\n  labels %s\n  want   %s", tc->name, labels, tc->labels);
    if (tc->allowed >= 0 && plan->allowed_pods != tc->allowed)
      mismatches +=
          report("case \"%s\": allowed pods %d, want %d", tc->name, (int) plan->allowed_pods, tc->allowed);
    check_invariants(tc, &c, plan);
    check_never_mixed(tc, obs, plan);
  }
  free(obs);
  free(plan);
  if (mismatches > 0)
    fail_msg("%d mismatches in the topology table", mismatches);
}

static void test_register_carries_pod_identity_and_ready_condition(void **state)
{
  static const struct topo_case tc = {
      "identity", C3, "mg-0", "0 M reg=2:A:ready | 1 R uid=abc restarts=4 | 2 R", "", "", NULL, -1};
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  struct rec_plan *plan = calloc(1, sizeof(*plan));
  const struct rec_action *reg = NULL, *ready = NULL;
  (void) state;
  make_cluster(&tc, &c);
  notation_observed(&c, tc.observed, obs);
  assert_int_equal(rec_decide_topology(&c, obs, plan), MGO_OK);
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == REC_ACT_REGISTER)
      reg = &plan->a[i];
    if (plan->a[i].type == REC_ACT_CONDITION && strcmp(plan->a[i].cond_type, "Ready") == 0)
      ready = &plan->a[i];
  }
  assert_non_null(reg);
  assert_string_equal(reg->replica_pod, "mg-1");
  assert_string_equal(reg->replica_pod_uid, "abc");
  assert_int_equal(reg->replica_restart_count, 4);
  assert_string_equal(reg->address, "mg-1.mg-hl.db.svc:10000");
  assert_non_null(strstr(reg->message, "mg_1"));
  assert_non_null(ready);
  assert_int_equal(ready->cond_status, REC_COND_FALSE);
  assert_string_equal(ready->reason, "ReplicasNotReady");
  assert_string_equal(plan->main_pod, "mg-0");
  assert_int_equal(plan->ready_replicas, 1);
  free(obs);
  free(plan);
}

/* lastFailover.behind (and the estimated-lost metric) of a SYNC candidate that held every acknowledged write
 * is 0 even when it was last seen with commits in flight (behind 2, in sync: rec_holds_acknowledged); an
 * ASYNC candidate carries its last-seen lag. */
static void test_failover_behind_counts_only_what_may_be_lost(void **state)
{
  static const struct topo_case tc = {
      "behind", 3,  1,    'S', 'A', "mg-0", "@ down=15000 | 0 ? | 1 R last=A:7 ts=9 | 2 R last=S ts=5",
      "",       "", NULL, -1};
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  struct rec_plan *plan = calloc(1, sizeof(*plan));
  const struct rec_action *rec = NULL;
  (void) state;
  make_cluster(&tc, &c);
  notation_observed(&c, tc.observed, obs);
  obs->inst[2].last_behind = 2; /* commits in flight when last seen; still in sync */
  assert_true(obs->inst[2].last_in_sync);
  assert_int_equal(rec_decide_topology(&c, obs, plan), MGO_OK);
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == REC_ACT_RECORD_MAIN)
      rec = &plan->a[i];
  }
  assert_non_null(rec);
  assert_string_equal(rec->pod, "mg-2");
  assert_int_equal(rec->behind, 0);

  c.spec.failover.allow_async_promotion = true; /* only the ASYNC replica left: its lag may be lost */
  c.spec.failover.max_async_lag = 10;
  obs->inst[2].pod_exists = false;
  memset(plan, 0, sizeof(*plan));
  rec = NULL;
  assert_int_equal(rec_decide_topology(&c, obs, plan), MGO_OK);
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == REC_ACT_RECORD_MAIN)
      rec = &plan->a[i];
  }
  assert_non_null(rec);
  assert_string_equal(rec->pod, "mg-1");
  assert_int_equal(rec->behind, 7);
  free(obs);
  free(plan);
}

static void test_same_input_same_plan(void **state)
{
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  struct rec_plan *a = calloc(1, sizeof(*a));
  struct rec_plan *b = calloc(1, sizeof(*b));
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    make_cluster(&cases[i], &c);
    notation_observed(&c, cases[i].observed, obs);
    assert_int_equal(rec_decide_topology(&c, obs, a), MGO_OK);
    assert_int_equal(rec_decide_topology(&c, obs, b), MGO_OK);
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->a, b->a, a->n * sizeof(a->a[0]));
  }
  free(obs);
  free(a);
  free(b);
}

static void test_rejects_inconsistent_input(void **state)
{
  static const struct topo_case tc = {"unsorted", C3, "mg-0", "1 R | 0 M", "", "", NULL, -1};
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  struct rec_plan *plan = calloc(1, sizeof(*plan));
  (void) state;
  make_cluster(&tc, &c);
  notation_observed(&c, tc.observed, obs);
  assert_int_equal(rec_decide_topology(&c, obs, plan), MGO_EINVAL);
  obs->n = REC_MAX_OBSERVED + 1;
  assert_int_equal(rec_decide_topology(&c, obs, plan), MGO_EINVAL);
  free(obs);
  free(plan);
}

static void test_parse_version(void **state)
{
  static const struct {
    const char *s;
    int rc, major, minor, patch;
  } cases_v[] = {
      {"3.12.0", MGO_OK, 3, 12, 0},      {"2.21.0-open-source", MGO_OK, 2, 21, 0},
      {"3.5.1+12~abc", MGO_OK, 3, 5, 1}, {"3.5", MGO_EPARSE, 0, 0, 0},
      {"v3.5.0", MGO_EPARSE, 0, 0, 0},   {"3.5.0x", MGO_EPARSE, 0, 0, 0},
      {"", MGO_EPARSE, 0, 0, 0},         {"99999999.1.1", MGO_EPARSE, 0, 0, 0},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases_v) / sizeof(cases_v[0]); i++) {
    int ma = -1, mi = -1, pa = -1;
    assert_int_equal(rec_parse_version(cases_v[i].s, &ma, &mi, &pa), cases_v[i].rc);
    if (cases_v[i].rc == MGO_OK) {
      assert_int_equal(ma, cases_v[i].major);
      assert_int_equal(mi, cases_v[i].minor);
      assert_int_equal(pa, cases_v[i].patch);
    }
  }
}

static void test_action_names(void **state)
{
  (void) state;
  assert_string_equal(rec_action_type_name(REC_ACT_PROMOTE), "promote");
  assert_string_equal(rec_action_type_name(REC_ACT_REQUEUE), "requeue");
  assert_string_equal(rec_action_type_name((enum rec_action_type) 99), "unknown");
}

/* The replica state's one name table, both ways, and the data presence's names. */
/* Who held every acknowledged write (the failover's "in sync"), as a table. */
static void test_holds_acknowledged_table(void **state)
{
  static const struct {
    enum mgo_repl_mode mode;
    enum rec_replica_state s;
    int64_t behind;
    bool holds;
  } rows[] = {
      {MGO_MODE_SYNC, REC_RS_READY, 0, true},
      {MGO_MODE_SYNC, REC_RS_READY, 3, true},
      {MGO_MODE_STRICT_SYNC, REC_RS_REPLICATING, 5, true},
      {MGO_MODE_SYNC, REC_RS_RECOVERY, 0, false},
      {MGO_MODE_SYNC, REC_RS_INVALID, 0, false},
      {MGO_MODE_STRICT_SYNC, REC_RS_DIVERGED, 0, false},
      {MGO_MODE_ASYNC, REC_RS_READY, 0, true},
      {MGO_MODE_ASYNC, REC_RS_READY, 1, false},
      {MGO_MODE_ASYNC, REC_RS_REPLICATING, 0, true},
      {MGO_MODE_ASYNC, REC_RS_UNKNOWN, 0, false},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    if (rec_holds_acknowledged(rows[i].mode, rows[i].s, rows[i].behind) != rows[i].holds)
      fail_msg("row %zu: %s %s behind %lld should be %d", i, mgo_repl_mode_name(rows[i].mode),
               rec_replica_state_name(rows[i].s), (long long) rows[i].behind, rows[i].holds);
  }
}

/* Healthy for Ready, the read Service and status (rec_replica_healthy), as a table. */
static void test_replica_healthy_table(void **state)
{
  static const struct {
    enum mgo_repl_mode mode;
    enum rec_replica_state s;
    int64_t behind;
    bool healthy;
  } rows[] = {
      {MGO_MODE_SYNC, REC_RS_READY, -3, true},
      {MGO_MODE_STRICT_SYNC, REC_RS_REPLICATING, 0, true},
      {MGO_MODE_ASYNC, REC_RS_REPLICATING, -5000, true},
      {MGO_MODE_ASYNC, REC_RS_RECOVERY, 0, true},
      {MGO_MODE_ASYNC, REC_RS_RECOVERY, -REC_ASYNC_CATCHUP_MAX_BEHIND, true},
      {MGO_MODE_ASYNC, REC_RS_RECOVERY, -REC_ASYNC_CATCHUP_MAX_BEHIND - 1, false},
      {MGO_MODE_ASYNC, REC_RS_RECOVERY, 1, false}, /* ahead of its MAIN: not a catch-up */
      {MGO_MODE_SYNC, REC_RS_RECOVERY, -1, false},
      {MGO_MODE_STRICT_SYNC, REC_RS_RECOVERY, 0, false},
      {MGO_MODE_ASYNC, REC_RS_INVALID, 0, false},
      {MGO_MODE_ASYNC, REC_RS_DIVERGED, 0, false},
      {MGO_MODE_ASYNC, REC_RS_UNKNOWN, 0, false},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    if (rec_replica_healthy(rows[i].mode, rows[i].s, rows[i].behind) != rows[i].healthy)
      fail_msg("row %zu: %s %s behind %lld should be %d", i, mgo_repl_mode_name(rows[i].mode),
               rec_replica_state_name(rows[i].s), (long long) rows[i].behind, rows[i].healthy);
  }
}

static void test_replica_state_names(void **state)
{
  (void) state;
  assert_string_equal(rec_replica_state_name(REC_RS_REPLICATING), "replicating");
  assert_string_equal(rec_replica_state_name(REC_RS_DIVERGED), "diverged");
  assert_string_equal(rec_replica_state_name((enum rec_replica_state) 99), "unknown");
  for (int s = REC_RS_UNKNOWN; s <= REC_RS_DIVERGED; s++)
    assert_int_equal(rec_replica_state_named(rec_replica_state_name((enum rec_replica_state) s)), s);
  assert_int_equal(rec_replica_state_named("READY"), REC_RS_UNKNOWN);
  assert_int_equal(rec_replica_state_named(NULL), REC_RS_UNKNOWN);
  assert_string_equal(rec_data_name(REC_DATA_PRESENT), "present");
  assert_string_equal(rec_data_name(REC_DATA_EMPTY), "empty");
  assert_string_equal(rec_data_name(REC_DATA_UNKNOWN), "unknown");
}

/* The query text of a Bolt action is what the Memgraph client sends (mg_rec_action_cypher): names are
 * always backtick-quoted, and what the client would refuse locally has no text. */
static void test_action_cypher(void **state)
{
  static const struct {
    enum rec_action_type type;
    const char *replica;
    const char *address;
    enum mgo_repl_mode mode;
    int port;
    int rc;
    const char *want;
  } cases_c[] = {
      {REC_ACT_PROMOTE, "", "", MGO_MODE_ASYNC, 0, MGO_OK, "SET REPLICATION ROLE TO MAIN"},
      {REC_ACT_DEMOTE, "", "", MGO_MODE_ASYNC, 10000, MGO_OK,
       "SET REPLICATION ROLE TO REPLICA WITH PORT 10000"},
      {REC_ACT_DEMOTE, "", "", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_DEMOTE, "", "", MGO_MODE_ASYNC, 70000, MGO_EINVAL, NULL},
      {REC_ACT_REGISTER, "mg_1", "mg-1.mg-hl.db.svc:10000", MGO_MODE_SYNC, 0, MGO_OK,
       "REGISTER REPLICA `mg_1` SYNC TO \"mg-1.mg-hl.db.svc:10000\""},
      {REC_ACT_REGISTER, "mg_2", "mg-2.mg-hl.db.svc:10000", MGO_MODE_STRICT_SYNC, 0, MGO_OK,
       "REGISTER REPLICA `mg_2` STRICT_SYNC TO \"mg-2.mg-hl.db.svc:10000\""},
      {REC_ACT_REGISTER, "mg_3", "mg-3:10000", MGO_MODE_ASYNC, 0, MGO_OK,
       "REGISTER REPLICA `mg_3` ASYNC TO \"mg-3:10000\""},
      {REC_ACT_REGISTER, "mg-1", "mg-1:10000", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_REGISTER, "x", "h\" DROP:1", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_REGISTER, "x", "host", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_REGISTER, "x", "a:b:1", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_REGISTER, "x", "host:99999", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_REGISTER, "x", ":10000", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_DROP, "mg_1", "", MGO_MODE_ASYNC, 0, MGO_OK, "DROP REPLICA `mg_1`"},
      {REC_ACT_DROP, "odd-name", "", MGO_MODE_ASYNC, 0, MGO_OK, "DROP REPLICA `odd-name`"},
      /* refused by the Memgraph client (never sent), so no text either */
      {REC_ACT_DROP, "a`b", "", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_DROP, "1st", "", MGO_MODE_ASYNC, 0, MGO_OK, "DROP REPLICA `1st`"},
      {REC_ACT_DROP, "", "", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
      {REC_ACT_LABEL, "", "", MGO_MODE_ASYNC, 0, MGO_EINVAL, NULL},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases_c) / sizeof(cases_c[0]); i++) {
    struct rec_action a;
    char out[512] = "";
    int rc;
    memset(&a, 0, sizeof(a));
    a.type = cases_c[i].type;
    mgo_strlcpy(a.replica, cases_c[i].replica, sizeof(a.replica));
    mgo_strlcpy(a.address, cases_c[i].address, sizeof(a.address));
    a.mode = cases_c[i].mode;
    a.port = cases_c[i].port;
    rc = mg_rec_action_cypher(&a, out, sizeof(out));
    if (rc != cases_c[i].rc || (rc == MGO_OK && strcmp(out, cases_c[i].want) != 0))
      fail_msg("cypher case %zu: rc %d, \"%s\"", i, rc, out);
  }
}

/* Every Bolt action of every table plan turns into Cypher: the names the decision makes are safe. */
static void test_every_planned_action_has_cypher(void **state)
{
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  struct rec_plan *plan = calloc(1, sizeof(*plan));
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    make_cluster(&cases[i], &c);
    notation_observed(&c, cases[i].observed, obs);
    assert_int_equal(rec_decide_topology(&c, obs, plan), MGO_OK);
    for (size_t k = 0; k < plan->n; k++) {
      enum rec_action_type t = plan->a[k].type;
      char out[512];
      bool bolt = t == REC_ACT_PROMOTE || t == REC_ACT_DEMOTE || t == REC_ACT_REGISTER || t == REC_ACT_DROP;
      if (bolt && mg_rec_action_cypher(&plan->a[k], out, sizeof(out)) != MGO_OK)
        fail_msg("case \"%s\": action %zu has no safe Cypher", cases[i].name, k);
    }
  }
  free(obs);
  free(plan);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topology_table),
      cmocka_unit_test(test_register_carries_pod_identity_and_ready_condition),
      cmocka_unit_test(test_failover_behind_counts_only_what_may_be_lost),
      cmocka_unit_test(test_same_input_same_plan),
      cmocka_unit_test(test_rejects_inconsistent_input),
      cmocka_unit_test(test_parse_version),
      cmocka_unit_test(test_action_names),
      cmocka_unit_test(test_replica_state_names),
      cmocka_unit_test(test_holds_acknowledged_table),
      cmocka_unit_test(test_replica_healthy_table),
      cmocka_unit_test(test_action_cypher),
      cmocka_unit_test(test_every_planned_action_has_cypher),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
