package io.starling.broker.auth;

import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The enhanced authentication methods the broker offers, by Authentication Method name (exact, case-sensitive).
 * A CONNECT whose method is not {@link #find found} is refused with CONNACK 0x8C Bad authentication method.
 *
 * <p>Thread-safety: thread-safe; methods are usually registered at startup and looked up from every event loop.
 * {@link #find} is one concurrent hash map lookup.
 */
public final class EnhancedAuthRegistry {

    private final ConcurrentMap<String, EnhancedAuthenticator> byMethod = new ConcurrentHashMap<>();

    /**
     * Adds an authenticator under its {@link EnhancedAuthenticator#method()}.
     *
     * @throws IllegalArgumentException if the method name is empty or already registered
     */
    public void register(EnhancedAuthenticator authenticator) {
        Objects.requireNonNull(authenticator, "authenticator");
        String method = Objects.requireNonNull(authenticator.method(), "method");
        if (method.isEmpty()) {
            throw new IllegalArgumentException("empty authentication method");
        }
        if (byMethod.putIfAbsent(method, authenticator) != null) {
            throw new IllegalArgumentException("authentication method already registered: " + method);
        }
    }

    /** The authenticator for this Authentication Method, {@code null} if none (or if {@code method} is null). */
    public EnhancedAuthenticator find(String method) {
        return method == null ? null : byMethod.get(method);
    }

    /** The registered method names, sorted; an unmodifiable snapshot. */
    public Set<String> methods() {
        return Collections.unmodifiableSet(new TreeSet<>(byMethod.keySet()));
    }
}
