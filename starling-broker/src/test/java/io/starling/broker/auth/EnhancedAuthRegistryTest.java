package io.starling.broker.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.codec.ReasonCode;
import org.junit.jupiter.api.Test;

class EnhancedAuthRegistryTest {

    private static EnhancedAuthenticator named(String method) {
        return new EnhancedAuthenticator() {
            @Override
            public String method() {
                return method;
            }

            @Override
            public AuthExchange start(String clientId, String username) {
                return data -> AuthStep.failure(ReasonCode.NOT_AUTHORIZED);
            }
        };
    }

    private final EnhancedAuthRegistry sut = new EnhancedAuthRegistry();

    @Test
    void findsRegisteredMethodsExactly() {
        ScramSha256Authenticator scram = new ScramSha256Authenticator(new InMemoryScramCredentialStore());
        EnhancedAuthenticator other = named("X-TOKEN");
        sut.register(scram);
        sut.register(other);

        assertThat(sut.find("SCRAM-SHA-256")).isSameAs(scram);
        assertThat(sut.find("X-TOKEN")).isSameAs(other);
        assertThat(sut.find("scram-sha-256")).isNull();
        assertThat(sut.find("SCRAM-SHA-1")).isNull();
        assertThat(sut.find(null)).isNull();
        assertThat(sut.methods()).containsExactly("SCRAM-SHA-256", "X-TOKEN");
    }

    @Test
    void refusesDuplicatesAndEmptyNames() {
        sut.register(named("A"));
        assertThatThrownBy(() -> sut.register(named("A"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sut.register(named(""))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sut.register(named(null))).isInstanceOf(NullPointerException.class);
        assertThat(sut.methods()).containsExactly("A");
    }

    @Test
    void methodsIsAnUnmodifiableSnapshot() {
        sut.register(named("A"));
        var methods = sut.methods();
        sut.register(named("B"));
        assertThat(methods).containsExactly("A");
        assertThatThrownBy(() -> methods.add("C")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void emptyRegistry_findsNothing() {
        assertThat(sut.methods()).isEmpty();
        assertThat(sut.find("SCRAM-SHA-256")).isNull();
    }
}
