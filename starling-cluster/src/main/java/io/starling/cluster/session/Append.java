package io.starling.cluster.session;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import java.io.Serializable;
import java.util.concurrent.Callable;

/**
 * Sent by a node that came back after a crash to the node that owns a session now: the messages that were queued on
 * the returning node's disk for that session ({@link MovedBytes}; only its queued messages are used) are appended to
 * the session there ({@link io.starling.broker.session.SessionManager#appendMoved}). Returns whether they were taken
 * (for a stored session: written to the owner's store); the sender ends its copy only then.
 */
final class Append implements Callable<Boolean>, Serializable, HazelcastInstanceAware {

    private static final long serialVersionUID = 1L;
    private final String clientId;
    private final byte[] moved;
    private transient HazelcastInstance hz;

    Append(String clientId, byte[] moved) {
        this.clientId = clientId;
        this.moved = moved;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance instance) {
        hz = instance;
    }

    @Override
    public Boolean call() throws Exception {
        SessionOwnership here = (SessionOwnership) hz.getUserContext().get(SessionOwnership.USER_CONTEXT_KEY);
        if (here == null) {
            return false;
        }
        return here.appendHere(clientId, moved);
    }
}
