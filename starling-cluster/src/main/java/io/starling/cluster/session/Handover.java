package io.starling.cluster.session;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import java.io.Serializable;
import java.util.concurrent.Callable;

/**
 * Sent to the node that owned a session when its client connects to another node: that node disconnects the client's
 * connection and hands the session over ({@link io.starling.broker.session.SessionManager#handOver}). Returns the
 * moved session as an {@link OwnerRecord} in bytes, {@code null} if nothing moves.
 */
final class Handover implements Callable<byte[]>, Serializable, HazelcastInstanceAware {

    private static final long serialVersionUID = 1L;
    private final String clientId;
    private final boolean cleanStart;
    private transient HazelcastInstance hz;

    Handover(String clientId, boolean cleanStart) {
        this.clientId = clientId;
        this.cleanStart = cleanStart;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance instance) {
        hz = instance;
    }

    @Override
    public byte[] call() throws Exception {
        SessionOwnership here = (SessionOwnership) hz.getUserContext().get(SessionOwnership.USER_CONTEXT_KEY);
        if (here == null) {
            return null;
        }
        return here.handOverHere(clientId, cleanStart);
    }
}
