package io.starling.cluster.session;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.map.IMap;
import io.netty.channel.EventLoopGroup;
import io.starling.broker.Broker;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.ClusterSessions;
import io.starling.broker.session.MovedSession;
import io.starling.broker.session.Session;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client ids unique cluster-wide. The ownership map ({@value #MAP}: client id → {@link OwnerRecord}, one synchronous
 * backup) says which node owns each session; it is changed only by entry processors ({@link OwnershipOps}). A client
 * connecting here claims its id; if another live node owned it, that node disconnects the old connection and hands the
 * session over (its subscriptions), and the client gets Session Present 1. The owner keeps the record's Will and
 * subscriptions current, so that when it dies the survivors publish each Will exactly once (honouring the Will Delay
 * Interval) and its clients find their subscriptions on any node.
 */
public final class SessionOwnership implements ClusterSessions {

    private static final Logger LOG = LoggerFactory.getLogger(SessionOwnership.class);
    /** The ownership map's name. */
    public static final String MAP = "starling.sessions";
    /** Key of this object in Hazelcast's user context (for {@link Handover} on this node). */
    static final String USER_CONTEXT_KEY = "starling.sessionOwnership";
    private static final String EXECUTOR = "starling.handover";
    /** In the data directory: the client ids of the sessions this node parked when it last left the cluster. */
    static final String PARKED_FILE = "cluster-parked";
    private static final long HANDOVER_TIMEOUT_SECONDS = 10;
    /** How many times a returning node offers a restored session's messages to the session's owner. */
    private static final int HAND_ON_ATTEMPTS = 8;

    private final String node;
    private final HazelcastInstance hz;
    private final Broker broker;
    private final EventLoopGroup group;
    private final BooleanSupplier accepts;
    private final IMap<String, byte[]> owners;
    private final IExecutorService executor;
    /**
     * Where a graceful leave notes the client ids of the sessions it parked ({@code cluster-parked} in the data
     * directory); {@code null} when the store keeps no sessions.
     */
    private final java.nio.file.Path parkedFile;
    /** Record writes not answered yet (a graceful leave waits for them). */
    private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param accepts whether this node accepts connections now (the minimum-size gate)
     */
    public SessionOwnership(String node, HazelcastInstance hz, Broker broker, EventLoopGroup group,
            BooleanSupplier accepts) {
        this.node = node;
        this.hz = hz;
        this.broker = broker;
        this.group = group;
        this.accepts = accepts;
        this.owners = hz.getMap(MAP);
        this.executor = hz.getExecutorService(EXECUTOR);
        this.parkedFile = broker.store().persistsSessions() ? broker.config().dataDir().resolve(PARKED_FILE) : null;
        hz.getUserContext().put(USER_CONTEXT_KEY, this);
    }

    @Override
    public boolean acceptsConnections() {
        return accepts.getAsBoolean();
    }

    @Override
    public void claim(String clientId, boolean cleanStart, Consumer<MovedSession> then) {
        CompletionStage<byte[]> claimed = owners.submitToKey(clientId, new OwnershipOps.Claim(node));
        claimed.whenComplete((before, error) -> {
            if (error != null) {
                LOG.warn("Cluster: claiming client id '{}' failed; opening its session here only", clientId, error);
                then.accept(null);
                return;
            }
            OwnerRecord r = OwnerRecord.decode(before);
            if (r == null || r.node().equals(node)) {
                then.accept(null);
                return;
            }
            Member owner = r.node().isEmpty() ? null : member(r.node());
            if (owner == null) {
                // its owner is gone: the session comes from the record (all of it if its node parked it on leaving)
                LOG.info("Cluster: client '{}' of {} (gone) resumes here{}", clientId,
                        r.node().isEmpty() ? "a node" : r.node(), r.parked() != null ? " with its parked session" : "");
                then.accept(cleanStart ? null : fromRecord(r));
                return;
            }
            executor.submitToMember(new Handover(clientId, cleanStart), owner, new ExecutionCallback<byte[]>() {
                @Override
                public void onResponse(byte[] moved) {
                    MovedSession m;
                    try {
                        m = MovedBytes.decode(moved);
                    } catch (RuntimeException e) {
                        LOG.warn("Cluster: the session of '{}' from {} cannot be read; using the cluster's record",
                                clientId, r.node(), e);
                        m = cleanStart ? null : new MovedSession(r.subscriptions(), r.expirySeconds());
                    }
                    then.accept(m);
                }

                @Override
                public void onFailure(Throwable t) {
                    LOG.warn("Cluster: node {} did not hand over the session of '{}'; using the cluster's record",
                            r.node(), clientId, t);
                    then.accept(cleanStart ? null : new MovedSession(r.subscriptions(), r.expirySeconds()));
                }
            });
        });
    }

    private static MovedSession fromRecord(OwnerRecord r) {
        if (r.parked() != null) {
            try {
                return MovedBytes.decode(r.parked());
            } catch (RuntimeException e) {
                LOG.warn("Cluster: a parked session cannot be read; its subscriptions are used", e);
            }
        }
        return new MovedSession(r.subscriptions(), r.expirySeconds());
    }

    /** On the old owner, from {@link Handover}: hands the local session over; blocks (an executor thread) until done. */
    byte[] handOverHere(String clientId, boolean cleanStart) throws Exception {
        MovedSession moved = broker.sessions().handOver(clientId, cleanStart).get(HANDOVER_TIMEOUT_SECONDS,
                TimeUnit.SECONDS);
        if (moved == null) {
            return null;
        }
        return MovedBytes.encode(node, moved);
    }

    @Override
    public void attached(Session session, PendingWill will, Runnable then) {
        write(session, true, will).whenComplete((ok, e) -> then.run());
    }

    @Override
    public void subscriptionsChanged(Session session) {
        write(session, session.connection() != null, session.connection() == null ? null : session.connection().peekWill());
    }

    @Override
    public void detached(Session session, PendingWill pendingWill) {
        write(session, false, pendingWill);
    }

    @Override
    public void ended(String clientId) {
        pending.incrementAndGet();
        owners.submitToKey(clientId, new OwnershipOps.Release(node)).whenComplete((r, e) -> {
            pending.decrementAndGet();
            if (e != null) {
                LOG.debug("Cluster: releasing client id '{}' failed", clientId, e);
            }
        });
    }

    private CompletionStage<Boolean> write(Session session, boolean connected, PendingWill will) {
        OwnerRecord r = new OwnerRecord(node, 0, connected, will, session.expiryIntervalSeconds(),
                List.copyOf(session.subscriptions().values()));
        pending.incrementAndGet();
        CompletionStage<Boolean> done = owners.submitToKey(session.clientId(), new OwnershipOps.Update(node, r.encode()));
        done.whenComplete((ok, e) -> {
            pending.decrementAndGet();
            if (e != null) {
                LOG.warn("Cluster: the record of client '{}' could not be written", session.clientId(), e);
            }
        });
        return done;
    }

    /**
     * At start: each session this node restored from its store is registered as this node's if no live node owns its
     * client id. One that another node owns now (its client moved while this node was away) ends here, without its
     * Will (the cluster dealt with it); the messages that were queued for it here go to the owner first
     * (an {@link Append}), and the local copy ends only once the owner has them, unless this node parked the session
     * when it last left (the owner resumed the parked copy). Their snapshots are read here, before this node routes
     * anything: what reaches the local copy afterwards reached the owner too.
     */
    public void registerRestored() {
        int own = 0;
        List<Session> elsewhere = new ArrayList<>();
        for (Session s : broker.sessions().all()) {
            if (ClusterSessions.nodeLocal(s.clientId())) {
                continue; // a bridge's session stays on its node
            }
            OwnerRecord r = new OwnerRecord(node, 0, false, null, s.expiryIntervalSeconds(),
                    List.copyOf(s.subscriptions().values()));
            boolean mine;
            try {
                mine = owners.executeOnKey(s.clientId(), new OwnershipOps.Restore(node, r.encode()));
            } catch (RuntimeException e) {
                LOG.warn("Cluster: the session of '{}' could not be registered", s.clientId(), e);
                continue;
            }
            if (mine) {
                own++;
            } else {
                elsewhere.add(s);
            }
        }
        // a session parked when this node left has its messages with its owner already (it resumed the parked copy)
        java.util.Set<String> parked = takeParked();
        int ended = 0;
        // every snapshot is asked for first: they are read on the sessions' loops at once
        Map<Session, CompletableFuture<MovedSession>> snapshots = new LinkedHashMap<>();
        for (Session s : elsewhere) {
            if (parked.contains(s.clientId())) {
                ended++;
                endHere(s);
            } else {
                snapshots.put(s, broker.sessions().snapshot(s.clientId()));
            }
        }
        int handed = 0;
        for (Map.Entry<Session, CompletableFuture<MovedSession>> e : snapshots.entrySet()) {
            Session s = e.getKey();
            MovedSession m;
            try {
                m = e.getValue().get(HANDOVER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (Exception ex) {
                LOG.warn("Cluster: the session of '{}', owned by another node now, could not be read; it stays here",
                        s.clientId(), ex);
                continue;
            }
            if (m == null || m.queued().isEmpty()) {
                ended++;
                endHere(s);
            } else {
                handed++;
                // only the messages go: the owner keeps its subscriptions and its own inbound QoS 2 state
                byte[] bytes = MovedBytes.encode(node, new MovedSession(List.of(), m.expirySeconds(), m.queued(),
                        List.of()));
                handOn(s, bytes, m.queued().size(), 1);
            }
        }
        if (own + ended + handed > 0) {
            LOG.info("Cluster: {} restored session(s) registered as this node's, {} now owned elsewhere ended here, {} "
                    + "now owned elsewhere handing their queued messages to their owners", own, ended, handed);
        }
    }

    /** Ends a restored session here that another node owns now (on its loop), unless a client attached to it here. */
    private void endHere(Session s) {
        s.execute(() -> {
            if (s.connection() == null && !s.isDiscarded()) {
                // a node of a cluster schedules no Will of a restored session (SessionManager.restore)
                broker.sessions().discard(s);
            }
        });
    }

    /**
     * Hands the messages queued here for the restored session {@code s} to the node that owns its client id now
     * ({@link Append}); once that node has them, the local copy ends. If the owner is gone meanwhile and no node owns
     * the id, the session is registered as this node's and stays here with its messages. If the owner refuses or
     * cannot be reached, this is tried again (eight attempts in all, over about a minute and a half); after that the
     * session stays here, with its messages in this node's store, and a warning says so. Asynchronous: never blocks
     * the calling thread.
     */
    private void handOn(Session s, byte[] moved, int count, int attempt) {
        String id = s.clientId();
        owners.getAsync(id).whenComplete((bytes, error) -> {
            OwnerRecord r;
            try {
                if (error != null) {
                    throw error instanceof RuntimeException re ? re : new IllegalStateException(error);
                }
                r = OwnerRecord.decode(bytes);
            } catch (RuntimeException e) {
                retryHandOn(s, moved, count, attempt, "the ownership map did not answer (" + e + ")");
                return;
            }
            if (r != null && r.node().equals(node)) {
                LOG.info("Cluster: client '{}' connected here again meanwhile: its {} queued message(s) stay here", id,
                        count);
                return;
            }
            if (r == null || r.node().isEmpty()) {
                keepIfNoOwner(s, moved, count, attempt);
                return;
            }
            Member owner = member(r.node());
            if (owner == null) {
                retryHandOn(s, moved, count, attempt, "its owner " + r.node() + " is gone");
                return;
            }
            executor.submitToMember(new Append(id, moved), owner, new ExecutionCallback<Boolean>() {
                @Override
                public void onResponse(Boolean taken) {
                    if (Boolean.TRUE.equals(taken)) {
                        LOG.info("Cluster: {} message(s) queued here for client '{}' handed to {}, which owns its session"
                                + " now", count, id, r.node());
                        endHere(s);
                    } else {
                        retryHandOn(s, moved, count, attempt, r.node() + " has no session of it");
                    }
                }

                @Override
                public void onFailure(Throwable t) {
                    retryHandOn(s, moved, count, attempt, r.node() + " failed (" + t + ")");
                }
            });
        });
    }

    /** No node owns the id: the session is registered as this node's and stays here; else the owner is tried again. */
    private void keepIfNoOwner(Session s, byte[] moved, int count, int attempt) {
        String id = s.clientId();
        s.execute(() -> {
            if (s.isDiscarded()) {
                return;
            }
            OwnerRecord mine = new OwnerRecord(node, 0, false, null, s.expiryIntervalSeconds(),
                    List.copyOf(s.subscriptions().values()));
            owners.submitToKey(id, new OwnershipOps.Restore(node, mine.encode())).whenComplete((registered, error) -> {
                if (error == null && Boolean.TRUE.equals(registered)) {
                    LOG.warn("Cluster: the owner of client '{}' is gone: its session stays on this node with its {} "
                            + "queued message(s)", id, count);
                } else {
                    retryHandOn(s, moved, count, attempt, error != null ? "registering it failed (" + error + ")"
                            : "another node claimed it meanwhile");
                }
            });
        });
    }

    private void retryHandOn(Session s, byte[] moved, int count, int attempt, String why) {
        if (attempt >= HAND_ON_ATTEMPTS) {
            LOG.warn("Cluster: the {} message(s) queued here for client '{}' stay on this node: {}; its session is "
                    + "owned by another node, which did not take them", count, s.clientId(), why);
            return;
        }
        long delay = Math.min(30, 1L << (attempt - 1));
        LOG.info("Cluster: the {} message(s) queued here for client '{}' not handed on yet: {}; trying again in {} s",
                count, s.clientId(), why, delay);
        try {
            group.next().schedule(() -> handOn(s, moved, count, attempt + 1), delay, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.warn("Cluster: stopping: the {} message(s) queued here for client '{}' stay on this node", count,
                    s.clientId());
        }
    }

    /** On the owner, from {@link Append}: appends the messages another node had for the session; blocks until done. */
    boolean appendHere(String clientId, byte[] moved) throws Exception {
        MovedSession m = MovedBytes.decode(moved);
        if (m == null) {
            return true;
        }
        boolean taken = broker.sessions().appendMoved(clientId, m.queued()).get(HANDOVER_TIMEOUT_SECONDS,
                TimeUnit.SECONDS);
        if (taken) {
            LOG.info("Cluster: client '{}': {} message(s) queued for its session on another node appended here",
                    clientId, m.queued().size());
        }
        return taken;
    }

    /**
     * After this node merged back into the cluster (a partition healed): each session here is written back as this
     * node's unless another node owns its client id now; a session whose client connected on the other side meanwhile
     * ends here ({@link io.starling.broker.session.SessionManager#endStale}), so no client id stays connected twice.
     * Runs off Hazelcast's event threads; sessions are read on their loops.
     */
    public void reassert() {
        int own = 0;
        int ended = 0;
        for (Session s : broker.sessions().all()) {
            if (ClusterSessions.nodeLocal(s.clientId())) {
                continue; // a bridge's session stays on its node
            }
            OwnerRecord r;
            try {
                r = onLoop(s, () -> new OwnerRecord(node, 0, s.connection() != null,
                        s.connection() == null ? null : s.connection().peekWill(), s.expiryIntervalSeconds(),
                        List.copyOf(s.subscriptions().values())));
            } catch (Exception e) {
                continue; // ended meanwhile
            }
            try {
                if (owners.executeOnKey(s.clientId(), new OwnershipOps.Reassert(node, r.encode()))) {
                    own++;
                } else {
                    ended++;
                    broker.sessions().endStale(s.clientId());
                }
            } catch (RuntimeException e) {
                LOG.warn("Cluster: the session of '{}' could not be written back", s.clientId(), e);
            }
        }
        LOG.info("Cluster: node {} merged back; {} session(s) still its own, {} owned elsewhere now ended here", node,
                own, ended);
    }

    private static <T> T onLoop(Session s, java.util.concurrent.Callable<T> read) throws Exception {
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        s.execute(() -> {
            try {
                f.complete(read.call());
            } catch (Exception e) {
                f.completeExceptionally(e);
            }
        });
        return f.get(5, TimeUnit.SECONDS);
    }

    /**
     * Before this node leaves gracefully (its clients disconnected, their Wills published here): waits for the record
     * writes still under way, then clears the Wills left in this node's records, so that the survivors publish none
     * of them again. A Will still waiting for its Will Delay Interval stays with this node's store and is published
     * when it starts again (as on a single node).
     */
    public void leave(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (pending.get() > 0 && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (hz.getCluster().getMembers().size() > 1) {
            park(deadline);
        }
        try {
            int cleared = owners.executeOnEntries(new OwnershipOps.ClearWills(node)).size();
            LOG.info("Cluster: node {} leaves; {} session record(s) of it updated", node, cleared);
        } catch (RuntimeException e) {
            LOG.warn("Cluster: the session records of {} could not be updated before leaving", node, e);
        }
    }

    /**
     * Parks each persistent session of this node in its record, for the node its client connects to next; the local
     * copy stays in this node's store (used if the whole cluster restarts, ended if the client moved meanwhile).
     */
    private void park(long deadlineNanos) {
        int parked = 0;
        List<String> ids = new ArrayList<>();
        for (Session s : broker.sessions().all()) {
            if (ClusterSessions.nodeLocal(s.clientId())) {
                continue; // a bridge's session stays on its node
            }
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                LOG.warn("Cluster: no time left to park the remaining sessions of {}", node);
                break;
            }
            try {
                MovedSession m = broker.sessions().snapshot(s.clientId()).get(left, TimeUnit.NANOSECONDS);
                if (m != null && owners.executeOnKey(s.clientId(), new OwnershipOps.Park(node, MovedBytes.encode(node, m)))) {
                    parked++;
                    ids.add(s.clientId());
                }
            } catch (Exception e) {
                LOG.warn("Cluster: the session of '{}' could not be parked", s.clientId(), e);
            }
        }
        writeParked(ids);
        LOG.info("Cluster: node {} parked {} session(s) in the cluster", node, parked);
    }

    /**
     * Notes in the data directory which sessions were parked on leaving: when this node comes back, their queued
     * messages are not handed to their new owners again (the parked copy went there). Nothing without a store.
     */
    private void writeParked(List<String> ids) {
        if (parkedFile == null || ids.isEmpty()) {
            return;
        }
        java.nio.file.Path tmp = parkedFile.resolveSibling(parkedFile.getFileName() + ".tmp");
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                java.nio.file.Files.newOutputStream(tmp)))) {
            out.writeInt(ids.size());
            for (String id : ids) {
                out.writeUTF(id);
            }
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warn("Cluster: the list of parked sessions could not be written to {}", tmp, e);
            return;
        }
        try {
            java.nio.file.Files.move(tmp, parkedFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            LOG.warn("Cluster: the list of parked sessions could not be written to {}", parkedFile, e);
        }
    }

    /** The client ids parked when this node last left (and forgets the list); empty if none. */
    private java.util.Set<String> takeParked() {
        java.util.Set<String> ids = new java.util.HashSet<>();
        if (parkedFile == null || !java.nio.file.Files.exists(parkedFile)) {
            return ids;
        }
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(
                java.nio.file.Files.newInputStream(parkedFile)))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                ids.add(in.readUTF());
            }
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warn("Cluster: the list of parked sessions in {} cannot be read", parkedFile, e);
        }
        try {
            java.nio.file.Files.deleteIfExists(parkedFile);
        } catch (java.io.IOException e) {
            LOG.warn("Cluster: {} could not be deleted", parkedFile, e);
        }
        return ids;
    }

    /**
     * A node died or left: its sessions lose their owner, and their Wills are published here, each exactly once
     * cluster-wide (whichever node takes it from the record publishes it); a delayed Will after its Will Delay Interval
     * unless the client connects again first. Runs on a Hazelcast event thread; the map call may take a while.
     */
    public void nodeGone(String deadNode) {
        Map<String, byte[]> orphaned;
        try {
            orphaned = owners.executeOnEntries(new OwnershipOps.Orphan(deadNode));
        } catch (RuntimeException e) {
            LOG.warn("Cluster: the sessions of {} could not be taken over", deadNode, e);
            return;
        }
        int wills = 0;
        for (Map.Entry<String, byte[]> e : orphaned.entrySet()) {
            OwnerRecord r = OwnerRecord.decode(e.getValue());
            if (r == null || r.will() == null) {
                continue;
            }
            PendingWill w = r.will();
            long delay = w.delaySeconds() == 0 ? 0 : Math.min(w.delaySeconds(), r.expirySeconds());
            if (delay == 0) {
                group.next().execute(() -> broker.publish(w.message()));
                wills++;
            } else {
                String clientId = e.getKey();
                long epoch = r.epoch();
                group.next().schedule(() -> publishDelayedWill(clientId, epoch), delay, TimeUnit.SECONDS);
            }
        }
        LOG.info("Cluster: {} session(s) of {} have no owner now; {} Will(s) published here", orphaned.size(), deadNode,
                wills);
    }

    private void publishDelayedWill(String clientId, long epoch) {
        owners.submitToKey(clientId, new OwnershipOps.TakeWill(epoch)).whenComplete((before, e) -> {
            OwnerRecord r = OwnerRecord.decode(before);
            if (e == null && r != null && r.will() != null) {
                group.next().execute(() -> broker.publish(r.will().message()));
            }
        });
    }

    private Member member(String name) {
        for (Member m : hz.getCluster().getMembers()) {
            if (name.equals(m.getAttribute("starling.node"))) {
                return m;
            }
        }
        return null;
    }
}
