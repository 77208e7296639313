package io.starling.broker.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The broker-wide security settings (keys {@code password-file}, {@code acl-file}, {@code auth-failure-limit},
 * {@code auth-failure-window-seconds}, {@code auth-block-seconds}; see docs/configuration.md and docs/security.md).
 * Listener-specific ones ({@code allow-anonymous}, a listener's own {@code password-file},
 * {@code use-identity-as-username}) are in {@link ListenerConfig}. Immutable.
 *
 * @param passwordFile the password file used by every listener without its own; {@code null} = none
 * @param aclFile the ACL file; {@code null} = no authorization rules, every client may publish and subscribe to
 *     everything (except publishing to {@code $SYS})
 * @param authFailureLimit failed logins from one address within {@code authFailureWindow} that block it; 0 = never
 * @param authFailureWindow the window in which failed logins are counted
 * @param authBlock how long an address stays blocked
 */
public record SecurityConfig(Path passwordFile, Path aclFile, int authFailureLimit, Duration authFailureWindow,
        Duration authBlock) {

    /** Checks the values. */
    public SecurityConfig {
        if (authFailureLimit < 0) {
            throw new IllegalArgumentException("auth-failure-limit must not be negative");
        }
        if (authFailureWindow == null || authFailureWindow.isNegative() || authBlock == null || authBlock.isNegative()) {
            throw new IllegalArgumentException("auth-failure-window-seconds and auth-block-seconds must not be negative");
        }
    }

    /** No password file, no ACL file; 10 failed logins in 60 s block an address for 60 s. */
    public static SecurityConfig defaults() {
        return new SecurityConfig(null, null, 10, Duration.ofSeconds(60), Duration.ofSeconds(60));
    }

    public SecurityConfig withPasswordFile(Path v) {
        return new SecurityConfig(v, aclFile, authFailureLimit, authFailureWindow, authBlock);
    }

    public SecurityConfig withAclFile(Path v) {
        return new SecurityConfig(passwordFile, v, authFailureLimit, authFailureWindow, authBlock);
    }

    /** The rate limit of failed logins: {@code limit} failures in {@code window} block an address for {@code block}. */
    public SecurityConfig withAuthFailureLimit(int limit, Duration window, Duration block) {
        return new SecurityConfig(passwordFile, aclFile, limit, window, block);
    }
}
