package io.starling.it;

import io.starling.testkit.RawClient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Creates clients against the class's broker and closes every one after each test. Register as an instance field:
 * {@code @RegisterExtension final Clients clients = new Clients(broker);}.
 */
public final class Clients implements AfterEachCallback {

    private final BrokerExtension broker;
    private final List<AutoCloseable> open = Collections.synchronizedList(new ArrayList<>());

    public Clients(BrokerExtension broker) {
        this.broker = broker;
    }

    /** A clean-session client with a fresh id. */
    public TestClient connect(ClientKind kind) throws Exception {
        return track(kind.connect(broker));
    }

    public TestClient connect(ClientKind kind, String clientId, boolean clean, long sessionExpirySeconds) throws Exception {
        return track(kind.connect(broker, clientId, clean, sessionExpirySeconds));
    }

    /** A raw socket to the broker. */
    public RawClient raw() {
        return track(RawClient.connect(broker.host(), broker.port()));
    }

    /** Closes {@code c} after the test. */
    public <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<AutoCloseable> copy;
        synchronized (open) {
            copy = new ArrayList<>(open);
            open.clear();
        }
        Collections.reverse(copy);
        for (AutoCloseable c : copy) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort
            }
        }
    }
}
