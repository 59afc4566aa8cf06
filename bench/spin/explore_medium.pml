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
 * Assertions check what can be checked from a state and its step: capacity, the
 * priority of a delivery, TTL and delay at delivery. What the explorer's checker
 * remembers across steps (first-delivery order, round-robin counts) is not
 * modelled, so SPIN's state count is smaller than the explorer's; the comparison is
 * per state.
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
#define FIN 4           /* finished: fate is not kept apart from the order below */

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
byte fin_order[6]; byte nfin;   /* finish order of slots */
byte dlr;               /* dead-letter refusals */

byte i; byte j; byte k; byte c; byte m; bit found;   /* scratch, reset after each step */

#define prio(x)  (x == 1 -> 1 : 0)
#define ttl(x)   (x == 1 -> 2 : 0)
#define delay(x) (x == 2 -> 1 : 0)
#define size0    (n0 + n1 + nd + nf)
#define size1    (ndr)
#define expired0(x) (ttl(x) > 0 && now >= ts[x] + ttl(x))

inline finish(s, f) {
  pl[s] = FIN; fate[s] = f; fin_order[nfin] = s; nfin++;
  att_n[s] = 0; holder[s] = 0; ts[s] = 0; dl[s] = 0
}

inline push_ready0(x) {          /* place_ready in tasks: expire, or back of its level */
  if
  :: expired0(x) -> finish(x, 2)
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
     pl[NM + x] = READY; ts[NM + x] = now; dr[ndr] = x; ndr++
  fi
}

inline fail_delivery(x) {        /* x taken out of flight */
  holder[x] = 0; dl[x] = 0;
  if
  :: expired0(x) -> finish(x, 2)
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
  pl[m] = INFL; holder[m] = cc; dl[m] = now + VT; fl[nf] = m; nf++
}

#define credit(cc) (att[cc] && !(nf > 0 && holder[fl[0]] == cc) && !(nf > 1 && holder[fl[1]] == cc))

inline deliver1() {              /* dead: the janitor acks at once */
  m = dr[0]; dr[0] = dr[1]; dr[1] = dr[2]; dr[2] = 0; ndr--;
  finish(NM + m, 1)
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
  :: nd > 0 && now >= ts[dq[0]] + delay(dq[0]) -> m = dq[0]; dq[0] = 0; nd--; push_ready0(m)
  :: else -> skip
  fi;
  if                              /* expiries (only m2 has a TTL) */
  :: n1 > 0 && expired0(r1[0]) -> m = r1[0]; r1[0] = 0; n1--; finish(m, 2)
  :: else -> skip
  fi
}

inline crash() {                  /* tasks is durable: in flight comes back; dead loses all */
  do
  :: nf > 0 -> m = fl[0]; remove_flight(0); fail_delivery(m)
  :: else -> break
  od;
  do
  :: ndr > 0 -> m = dr[0]; dr[0] = dr[1]; dr[1] = dr[2]; dr[2] = 0; ndr--; finish(NM + m, 4)
  :: else -> break
  od;
  cursor = 0; att[0] = 0; att[1] = 0; att[2] = 0; up = 0; crashes++
}

inline send(x) {
  if
  :: size0 >= 2 -> skip          /* refused: the producer is told */
  :: else ->
     ts[x] = now;
     if
     :: delay(x) > 0 -> pl[x] = DELAYED; dq[nd] = x; nd++
     :: else -> push_ready0(x)
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

inline clear_scratch() { i = 0; j = 0; k = 0; c = 0; m = 0; found = 0 }

active proctype broker() {
  do
  :: atomic { up && !(sent & 1) -> send(0); clear_scratch() }
  :: atomic { up && !(sent & 2) -> send(1); clear_scratch() }
  :: atomic { up && !(sent & 4) -> send(2); clear_scratch() }
  :: atomic { up && (n0 + n1) > 0 && (credit(0) || credit(1)) ->   /* dispatch tasks */
       if
       :: cursor == 0 && credit(0) -> cursor = 1; deliver0(0)
       :: cursor == 0 && !credit(0) -> cursor = 0; deliver0(1)
       :: cursor == 1 && credit(1) -> cursor = 0; deliver0(1)
       :: cursor == 1 && !credit(1) -> cursor = 1; deliver0(0)
       fi; clear_scratch() }
  :: atomic { up && ndr > 0 && att[2] -> deliver1(); clear_scratch() }   /* dispatch dead */
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
