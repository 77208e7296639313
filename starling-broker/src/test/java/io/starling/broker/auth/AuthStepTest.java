package io.starling.broker.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.auth.AuthStep.Outcome;
import io.starling.codec.ReasonCode;
import org.junit.jupiter.api.Test;

class AuthStepTest {

    @Test
    void continueWith_carriesDataAndTheContinueCode() {
        AuthStep step = AuthStep.continueWith(new byte[] {1, 2});
        assertThat(step.outcome()).isEqualTo(Outcome.CONTINUE);
        assertThat(step.reasonCode()).isEqualTo(ReasonCode.CONTINUE_AUTHENTICATION);
        assertThat(step.reasonCode().value()).isEqualTo(0x18);
        assertThat(step.data()).containsExactly(1, 2);
        assertThat(step.isFinal()).isFalse();
        assertThat(AuthStep.continueWith(null).data()).isNull();
    }

    @Test
    void success_carriesUserAndOptionalData() {
        AuthStep step = AuthStep.success(new byte[] {9}, "alice");
        assertThat(step.outcome()).isEqualTo(Outcome.SUCCESS);
        assertThat(step.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        assertThat(step.user()).isEqualTo("alice");
        assertThat(step.data()).containsExactly(9);
        assertThat(step.isFinal()).isTrue();
        assertThat(AuthStep.success(null, "bob").data()).isNull();
        assertThatThrownBy(() -> AuthStep.success(null, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void failure_needsAnErrorCode() {
        AuthStep step = AuthStep.failure(ReasonCode.BAD_AUTHENTICATION_METHOD);
        assertThat(step.outcome()).isEqualTo(Outcome.FAILURE);
        assertThat(step.reasonCode().value()).isEqualTo(0x8C);
        assertThat(step.data()).isNull();
        assertThat(step.isFinal()).isTrue();
        assertThatThrownBy(() -> AuthStep.failure(ReasonCode.SUCCESS)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AuthStep.failure(ReasonCode.CONTINUE_AUTHENTICATION))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void redirect_needsA9cOr9dCodeAndAReference() {
        AuthStep step = AuthStep.redirect(ReasonCode.SERVER_MOVED, "other:1883");
        assertThat(step.outcome()).isEqualTo(Outcome.REDIRECT);
        assertThat(step.serverReference()).isEqualTo("other:1883");
        assertThat(AuthStep.redirect(ReasonCode.USE_ANOTHER_SERVER, "x").reasonCode().value()).isEqualTo(0x9C);
        assertThatThrownBy(() -> AuthStep.redirect(ReasonCode.NOT_AUTHORIZED, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AuthStep.redirect(ReasonCode.SERVER_MOVED, "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AuthStep.redirect(ReasonCode.SERVER_MOVED, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void inconsistentComponents_areRejected() {
        assertThatThrownBy(() -> new AuthStep(Outcome.CONTINUE, ReasonCode.SUCCESS, null, null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AuthStep(Outcome.FAILURE, ReasonCode.NOT_AUTHORIZED, new byte[1], null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AuthStep(Outcome.SUCCESS, ReasonCode.SUCCESS, null, "u", "ref"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dataIsCopiedInAndOut() {
        byte[] data = {1, 2, 3};
        AuthStep step = AuthStep.continueWith(data);
        data[0] = 42;
        step.data()[1] = 42;
        assertThat(step.data()).containsExactly(1, 2, 3);
    }

    @Test
    void equalsComparesDataByContent_andToStringHidesIt() {
        assertThat(AuthStep.continueWith(new byte[] {1})).isEqualTo(AuthStep.continueWith(new byte[] {1}))
                .hasSameHashCodeAs(AuthStep.continueWith(new byte[] {1}))
                .isNotEqualTo(AuthStep.continueWith(new byte[] {2}));
        assertThat(AuthStep.success("secret".getBytes(UTF_8), "u").toString())
                .doesNotContain("secret").contains("6 bytes");
    }
}
