package io.starling.server.integration;

import io.starling.broker.auth.Authenticator;
import io.starling.broker.auth.ChainAuthenticator;
import io.starling.broker.config.AuthenticationConfig;
import io.starling.broker.config.AuthenticationConfig.Backend;
import io.starling.broker.config.ListenerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The authentication chains of the listeners, from the {@code authentication} key: each listener asks the backends
 * its own {@code authentication} key names, in that order, or all of them in the order of the key. Its password file
 * (its own {@code password-file}, else the broker's) comes first unless a {@code password-file} backend places it;
 * in a chain the password file leaves users it does not know to the next backend. Each JWT and HTTP backend exists
 * once, shared by the listeners that use it. Not thread-safe while listeners are set up; the authenticators it
 * makes are.
 */
public final class AuthChains implements AutoCloseable {

    private final AuthenticationConfig config;
    private final Function<Path, Authenticator> chainedPasswordFile;
    private final Map<String, Authenticator> backends = new LinkedHashMap<>();

    /**
     * @param chainedPasswordFile the password file authenticator of a file that ignores unknown users, one per file
     */
    public AuthChains(AuthenticationConfig config, Function<Path, Authenticator> chainedPasswordFile) {
        this.config = config;
        this.chainedPasswordFile = chainedPasswordFile;
    }

    /**
     * The chain of a listener; {@code null} when neither the broker nor the listener configures backends (the
     * password file alone then, as before).
     *
     * @param passwordFile the listener's password file ({@code password-file} of its own or the broker's), or null
     * @throws IllegalArgumentException for a backend name that does not exist or a key that cannot be used
     */
    public Authenticator forListener(ListenerConfig listener, Path passwordFile) {
        if (config.backends().isEmpty() && listener.authentication().isEmpty()) {
            return null;
        }
        List<Backend> selected = new ArrayList<>();
        if (listener.authentication().isEmpty()) {
            selected.addAll(config.backends());
        } else {
            for (String name : listener.authentication()) {
                Backend b = config.find(name);
                if (b == null) {
                    throw new IllegalArgumentException(listener.describe() + ": authentication: no backend named '"
                            + name + "' in the authentication key");
                }
                selected.add(b);
            }
        }
        List<Authenticator> chain = new ArrayList<>();
        boolean placed = selected.stream().anyMatch(b -> b instanceof AuthenticationConfig.PasswordFileBackend);
        if (!placed && passwordFile != null) {
            chain.add(chainedPasswordFile.apply(passwordFile));
        }
        for (Backend b : selected) {
            if (b instanceof AuthenticationConfig.PasswordFileBackend p) {
                Path file = p.file() != null ? p.file() : passwordFile;
                if (file == null) {
                    throw new IllegalArgumentException(listener.describe() + ": backend '" + p.name()
                            + "' has no file, and neither the listener nor the broker has a password-file");
                }
                chain.add(chainedPasswordFile.apply(file));
            } else {
                chain.add(backends.computeIfAbsent(b.name(), n -> create(b)));
            }
        }
        return new ChainAuthenticator(chain);
    }

    private static Authenticator create(Backend b) {
        try {
            if (b instanceof AuthenticationConfig.JwtBackend j) {
                return new JwtAuthenticator(j);
            }
            return new HttpAuthenticator((AuthenticationConfig.HttpBackend) b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("authentication backend '" + b.name() + "': " + e.getMessage(), e);
        }
    }

    /** The JWT and HTTP backends made so far, by name (for tests and tools). */
    public Map<String, Authenticator> backends() {
        return Map.copyOf(backends);
    }

    @Override
    public void close() {
        for (Authenticator a : backends.values()) {
            a.close();
        }
    }
}
