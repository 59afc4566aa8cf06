/* The configuration of configs/explore-medium.json in Promela, for SPIN, to compare
 * the explorer's speed and memory with SPIN's on the same system (bench/spin/README.md).
 *
 * One process takes one operation per atomic step, as `mqharness explore` does:
 * send one of three menu messages (once each), dispatch per queue, fetch per
 * consumer, ack / nack with requeue / nack to the dead-letter queue per delivery,
 * advance the clock by one up to 3, one crash, recover, attach. The semantics are
 * the model's (model/model.cc): capacity 2 refusals, priorities, delay, TTL,
 * visibility timeout 2, retries (tasks: 1, then dead-lettered), dead-letter queue
 * "dead" (not durable, auto-ack janitor), durable "tasks" keeping its messages across
 * the crash, round-robin over c0 and c1 with prefetch 1.
 *
 * The state also holds what the explorer's property checker remembers between steps
 * (properties/model_properties.cc, packed as in explorer/packed_space.cc):
 * per queue and priority level the order in which never-delivered messages became
 * ready (FIFO), and per consumer of a round-robin ring its delivery count relative to
 * the ring's minimum and whether it has always had credit when the queue was
 * dispatched (round robin). So the state graph is the explorer's (without symmetry):
 * the same states, and SPIN's state count equals the explorer's --no-symmetry count
 * (4,048,716), provided SPIN keeps every variable: compile with `spin -o2 -a`. By
 * default SPIN drops variables that are written and never read (the fates and the
 * finish orders, which the model keeps and no step reads), and then counts 1,927,716.
 *
 * Assertions check capacity, the priority of each delivery, TTL and delay at
 * delivery, FIFO among first deliveries, and round-robin balance.
 */

#define NM 3            /* menu messages m1 (p0), m2 (p1, ttl 2), m3 (p0, delay 1) */
#define MAXT 3
#define VT 2
#define TASKS_RETRIES 1
#define DEAD_RETRIES 3

/* places of a slot (queue q, message i): slot q*NM + i */
#define ABSENT 0
#define READY 1
#define DELAYED 2
#define INFL 3
#define FIN 4           /* finished: its fate, and its place in its queue's finish order */

byte sent;              /* bit i: menu message i sent */
byte crashes;
byte now;
bit up = 1;
bit att[3] = 1;         /* c0, c1 (tasks), janitor (dead) */
byte cursor;            /* round-robin over c0, c1 */

byte pl[6];             /* place */
byte att_n[6];          /* attempts */
byte holder[6];         /* consumer holding it in flight */
byte ts[6];             /* acceptance time */
byte dl[6];             /* visibility deadline */
byte fate[6];           /* 1 acked, 2 expired, 3 dead-lettered, 4 lost */

/* Lists as arrays of message indices with lengths: tasks level 0 and level 1,
 * tasks delayed, tasks in flight, dead ready. */
byte r0[2]; byte n0;
byte r1[2]; byte n1;
byte dq[2]; byte nd;
byte fl[2]; byte nf;
byte dr[3]; byte ndr;
byte fin0[3]; byte nfin0;        /* finish order of tasks' messages */
byte fin1[3]; byte nfin1;        /* finish order of dead's messages */
/* The checker's memory. Never-delivered messages in the order they became ready:
 * tasks level 0 (m1, m3), tasks level 1 (m2), dead. */
byte nv0[2]; byte nnv0;
byte nv1[1]; byte nnv1;
byte nvd[3]; byte nnvd;
/* Round robin over c0, c1: deliveries by dispatch relative to the smaller count, and
 * whether each had credit at every dispatch since the last crash. The janitor is
 * alone in its ring: its count is always 0 relative to itself; only its flag counts. */
byte turn[2];
bit fair[2] = 1;
bit jfair = 1;
byte dlr;               /* dead-letter refusals */

byte i; byte j; byte k; byte m; bit found;   /* scratch, reset after each step */

#define prio(x)  (x == 1 -> 1 : 0)
#define ttl(x)   (x == 1 -> 2 : 0)
#define delay(x) (x == 2 -> 1 : 0)
#define size0    (n0 + n1 + nd + nf)
#define size1    (ndr)
#define expired0(x) (ttl(x) > 0 && now >= ts[x] + ttl(x))

inline finish(s, f) {
  pl[s] = FIN; fate[s] = f;
  if
  :: s < NM -> fin0[nfin0] = s; nfin0++
  :: else -> fin1[nfin1] = s - NM; nfin1++
  fi;
  att_n[s] = 0; holder[s] = 0; ts[s] = 0; dl[s] = 0
}

/* Arrays cannot be arguments of an inline: one pair per list (L, its length nL). */
inline push_nv0(x) { nv0[nnv0] = x; nnv0++ }
inline erase_nv0(x) {            /* remove x if present, keeping the order */
  j = 0;
  do
  :: j < nnv0 && nv0[j] != x -> j++
  :: j < nnv0 && nv0[j] == x ->
     do
     :: j + 1 < nnv0 -> nv0[j] = nv0[j + 1]; j++
     :: else -> break
     od;
     nnv0--; nv0[nnv0] = 0; break
  :: j >= nnv0 -> break
  od
}
inline push_nv1(x) { nv1[nnv1] = x; nnv1++ }
inline erase_nv1(x) {            /* remove x if present, keeping the order */
  j = 0;
  do
  :: j < nnv1 && nv1[j] != x -> j++
  :: j < nnv1 && nv1[j] == x ->
     do
     :: j + 1 < nnv1 -> nv1[j] = nv1[j + 1]; j++
     :: else -> break
     od;
     nnv1--; nv1[nnv1] = 0; break
  :: j >= nnv1 -> break
  od
}
inline push_nvd(x) { nvd[nnvd] = x; nnvd++ }
inline erase_nvd(x) {            /* remove x if present, keeping the order */
  j = 0;
  do
  :: j < nnvd && nvd[j] != x -> j++
  :: j < nnvd && nvd[j] == x ->
     do
     :: j + 1 < nnvd -> nvd[j] = nvd[j + 1]; j++
     :: else -> break
     od;
     nnvd--; nvd[nnvd] = 0; break
  :: j >= nnvd -> break
  od
}
inline nv_erase0(x) {            /* tasks: from its priority level */
  if
  :: prio(x) == 1 -> erase_nv1(x)
  :: else -> erase_nv0(x)
  fi
}
inline nv_push0(x) {
  if
  :: prio(x) == 1 -> push_nv1(x)
  :: else -> push_nv0(x)
  fi
}
/* A first delivery of x must be the oldest never-delivered message of its level. */
inline fifo0(x) {
  assert(att_n[x] != 1 || (prio(x) == 1 && (nnv1 == 0 || nv1[0] == x)) ||
         (prio(x) == 0 && (nnv0 == 0 || nv0[0] == x)))
}

inline push_ready0(x) {          /* place_ready in tasks: expire, or back of its level */
  if
  :: expired0(x) -> finish(x, 2); nv_erase0(x)
  :: else ->
     pl[x] = READY;
     if
     :: prio(x) == 1 -> r1[n1] = x; n1++
     :: else -> r0[n0] = x; n0++
     fi
  fi
}

inline dead_letter(x) {          /* finish in tasks; a fresh copy to dead if it fits */
  finish(x, 3);
  if
  :: size1 >= 2 || pl[NM + x] != ABSENT -> dlr++
  :: else ->
     pl[NM + x] = READY; ts[NM + x] = now; dr[ndr] = x; ndr++; push_nvd(x)
  fi
}

inline fail_delivery(x) {        /* x taken out of flight */
  holder[x] = 0; dl[x] = 0;
  if
  :: expired0(x) -> finish(x, 2); nv_erase0(x)
  :: else ->
     if
     :: att_n[x] > TASKS_RETRIES -> dead_letter(x)
     :: else -> push_ready0(x)
     fi
  fi
}

inline remove_flight(idx) {
  j = idx;
  do
  :: j + 1 < nf -> fl[j] = fl[j + 1]; j++
  :: else -> break
  od;
  nf--; fl[nf] = 0
}

inline deliver0(cc) {            /* head of the highest level of tasks to consumer cc */
  if
  :: n1 > 0 -> m = r1[0]; r1[0] = r1[1]; r1[1] = 0; n1--
  :: else -> assert(n0 > 0); m = r0[0]; r0[0] = r0[1]; r0[1] = 0; n0--
  fi;
  assert(prio(m) == 1 || n1 == 0);            /* priority */
  assert(!expired0(m) && now >= ts[m] + delay(m));   /* ttl and delay */
  att_n[m]++;
  fifo0(m); nv_erase0(m);
  pl[m] = INFL; holder[m] = cc; dl[m] = now + VT; fl[nf] = m; nf++
}

#define credit(cc) (att[cc] && !(nf > 0 && holder[fl[0]] == cc) && !(nf > 1 && holder[fl[1]] == cc))

inline deliver1() {              /* dead: the janitor acks at once */
  m = dr[0]; dr[0] = dr[1]; dr[1] = dr[2]; dr[2] = 0; ndr--;
  assert(nnvd == 0 || nvd[0] == m);   /* fifo: every delivery in dead is a first one */
  erase_nvd(m);
  finish(NM + m, 1)
}

/* After a dispatch of tasks that found a message ready: a consumer without credit
 * loses its claim to fairness; counts are kept relative to the smaller one; the
 * consumers that always had credit differ by at most one delivery. */
inline round_robin0(had0, had1) {
  if
  :: !had0 -> fair[0] = 0
  :: else -> skip
  fi;
  if
  :: !had1 -> fair[1] = 0
  :: else -> skip
  fi;
  if
  :: turn[0] <= turn[1] -> turn[1] = turn[1] - turn[0]; turn[0] = 0
  :: else -> turn[0] = turn[0] - turn[1]; turn[1] = 0
  fi;
  assert(!(fair[0] && fair[1]) || (turn[0] <= 1 && turn[1] <= 1))
}

inline advance() {               /* to now + 1: timeouts, then releases, then expiries */
  now++;
  k = 0;
  do                              /* visibility timeouts, in delivery order */
  :: k < nf && dl[fl[k]] <= now -> m = fl[k]; remove_flight(k); fail_delivery(m)
  :: k < nf && dl[fl[k]] > now -> k++
  :: k >= nf -> break
  od;
  if                              /* delay releases (only m3 is ever delayed) */
  :: nd > 0 && now >= ts[dq[0]] + delay(dq[0]) ->
     m = dq[0]; dq[0] = 0; nd--; nv_push0(m); push_ready0(m)
  :: else -> skip
  fi;
  if                              /* expiries (only m2 has a TTL) */
  :: n1 > 0 && expired0(r1[0]) -> m = r1[0]; r1[0] = 0; n1--; finish(m, 2); nv_erase0(m)
  :: else -> skip
  fi
}

inline crash() {                  /* tasks is durable: in flight comes back; dead loses all */
  do
  :: nf > 0 -> m = fl[0]; remove_flight(0); fail_delivery(m)
  :: else -> break
  od;
  do
  :: ndr > 0 ->
     m = dr[0]; dr[0] = dr[1]; dr[1] = dr[2]; dr[2] = 0; ndr--; finish(NM + m, 4); erase_nvd(m)
  :: else -> break
  od;
  cursor = 0; att[0] = 0; att[1] = 0; att[2] = 0; up = 0; crashes++;
  turn[0] = 0; turn[1] = 0; fair[0] = 1; fair[1] = 1; jfair = 1   /* the checker starts over */
}

inline send(x) {
  if
  :: size0 >= 2 -> skip          /* refused: the producer is told */
  :: else ->
     ts[x] = now;
     if
     :: delay(x) > 0 -> pl[x] = DELAYED; dq[nd] = x; nd++
     :: else -> nv_push0(x); push_ready0(x)
     fi
  fi;
  sent = sent | (1 << x)
}

inline take(cc, x) {              /* x in flight at cc: remove it, found = 1 */
  found = 0; k = 0;
  do
  :: k < nf && fl[k] == x && holder[x] == cc -> remove_flight(k); found = 1; break
  :: k < nf && !(fl[k] == x && holder[x] == cc) -> k++
  :: k >= nf -> break
  od
}

inline clear_scratch() { i = 0; j = 0; k = 0; m = 0; found = 0 }

active proctype broker() {
  do
  :: atomic { up && !(sent & 1) -> send(0); clear_scratch() }
  :: atomic { up && !(sent & 2) -> send(1); clear_scratch() }
  :: atomic { up && !(sent & 4) -> send(2); clear_scratch() }
  :: atomic { up && (n0 + n1) > 0 ->   /* dispatch tasks (with nobody to take it, only the checker notes it) */
       i = credit(0); k = credit(1);
       if
       :: cursor == 0 && i -> cursor = 1; deliver0(0); turn[0]++
       :: cursor == 0 && !i && k -> cursor = 0; deliver0(1); turn[1]++
       :: cursor == 1 && k -> cursor = 0; deliver0(1); turn[1]++
       :: cursor == 1 && !k && i -> cursor = 1; deliver0(0); turn[0]++
       :: !i && !k -> skip
       fi;
       round_robin0(i, k); clear_scratch() }
  :: atomic { up && ndr > 0 ->         /* dispatch dead */
       if
       :: att[2] -> deliver1()
       :: else -> jfair = 0
       fi; clear_scratch() }
  :: atomic { up && att[0] && (n0 + n1) > 0 && credit(0) -> deliver0(0); clear_scratch() }   /* fetch c0 */
  :: atomic { up && att[1] && (n0 + n1) > 0 && credit(1) -> deliver0(1); clear_scratch() }   /* fetch c1 */
  :: atomic { up && att[2] && ndr > 0 -> deliver1(); clear_scratch() }   /* fetch janitor */
  :: atomic { up && nf > 0 -> i = fl[0]; take(holder[i], i); finish(i, 1); clear_scratch() }          /* ack */
  :: atomic { up && nf > 0 -> i = fl[0]; take(holder[i], i); fail_delivery(i); clear_scratch() }   /* nack requeue */
  :: atomic { up && nf > 0 -> i = fl[0]; take(holder[i], i); dead_letter(i); clear_scratch() }     /* nack dead */
  :: atomic { up && nf > 1 -> i = fl[1]; take(holder[i], i); finish(i, 1); clear_scratch() }
  :: atomic { up && nf > 1 -> i = fl[1]; take(holder[i], i); fail_delivery(i); clear_scratch() }
  :: atomic { up && nf > 1 -> i = fl[1]; take(holder[i], i); dead_letter(i); clear_scratch() }
  :: atomic { now < MAXT -> advance(); assert(size0 <= 2 && size1 <= 2); clear_scratch() }
  :: atomic { up && crashes < 1 -> crash(); clear_scratch() }
  :: atomic { !up -> up = 1 }
  :: atomic { up && !att[0] -> att[0] = 1 }
  :: atomic { up && !att[1] -> att[1] = 1 }
  :: atomic { up && !att[2] -> att[2] = 1 }
  od
}
