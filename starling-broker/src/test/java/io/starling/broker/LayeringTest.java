package io.starling.broker;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The package layering of the broker engine, checked on its compiled classes. From the bottom:
 * <ul>
 *   <li>{@code config}, {@code log}, {@code time}, {@code metrics}: settings, logging helpers, the clock, counters;</li>
 *   <li>{@code topic}: topic names and filters, the subscription index;</li>
 *   <li>{@code message}: the message, one session's delivery of it, a pending Will;</li>
 *   <li>{@code acl}, {@code auth}: who may connect, publish and read;</li>
 *   <li>{@code hook}: the events told to integrations (webhooks), about messages and plain values;</li>
 *   <li>{@code retain}: the retained messages;</li>
 *   <li>{@code store}: the storage SPI, which knows no session object;</li>
 *   <li>{@code session}: sessions, their queues and windows, the session manager;</li>
 *   <li>{@code routing}: matching a published message to sessions and handing it over;</li>
 *   <li>{@code Broker}, which wires them together;</li>
 *   <li>{@code sys} on top: the {@code $SYS} topics, published through the {@code Broker}.</li>
 * </ul>
 * A package may use only those below it, and no two packages depend on each other, directly or through others.
 */
class LayeringTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.starling.broker");

    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("io.starling.broker.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void packagesUseOnlyTheLayersBelowThem() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .ensureAllClassesAreContainedInArchitecture()
                .layer("Config").definedBy("io.starling.broker.config..")
                .optionalLayer("Log").definedBy("io.starling.broker.log..")
                .optionalLayer("Time").definedBy("io.starling.broker.time..")
                .layer("Metrics").definedBy("io.starling.broker.metrics..")
                .layer("Topic").definedBy("io.starling.broker.topic..")
                .layer("Message").definedBy("io.starling.broker.message..")
                .layer("Acl").definedBy("io.starling.broker.acl..")
                .layer("Auth").definedBy("io.starling.broker.auth..")
                .layer("Hook").definedBy("io.starling.broker.hook..")
                .layer("Retain").definedBy("io.starling.broker.retain..")
                .layer("Store").definedBy("io.starling.broker.store..")
                .layer("Session").definedBy("io.starling.broker.session..")
                .layer("Routing").definedBy("io.starling.broker.routing..")
                .layer("Broker").definedBy("io.starling.broker")
                .layer("Sys").definedBy("io.starling.broker.sys..")

                .whereLayer("Log").mayNotAccessAnyLayer()
                .whereLayer("Time").mayNotAccessAnyLayer()
                .whereLayer("Config").mayOnlyAccessLayers("Log")
                .whereLayer("Metrics").mayOnlyAccessLayers("Log")
                .whereLayer("Topic").mayOnlyAccessLayers("Config", "Log")
                .whereLayer("Message").mayOnlyAccessLayers("Topic", "Config", "Log", "Time")
                .whereLayer("Acl").mayOnlyAccessLayers("Topic", "Config", "Log", "Time")
                .whereLayer("Auth").mayOnlyAccessLayers("Config", "Log", "Time")
                .whereLayer("Hook").mayOnlyAccessLayers("Message", "Topic", "Config", "Log", "Time")
                .whereLayer("Retain").mayOnlyAccessLayers("Message", "Topic", "Metrics", "Config", "Log", "Time")
                .whereLayer("Store").mayOnlyAccessLayers("Retain", "Message", "Topic", "Config", "Log", "Time")
                .whereLayer("Session").mayOnlyAccessLayers("Store", "Retain", "Acl", "Hook", "Message", "Topic",
                        "Metrics", "Config", "Log", "Time")
                .whereLayer("Routing").mayOnlyAccessLayers("Session", "Store", "Retain", "Acl", "Message", "Topic",
                        "Metrics", "Config", "Log", "Time")
                .whereLayer("Broker").mayOnlyAccessLayers("Routing", "Session", "Store", "Retain", "Acl", "Auth",
                        "Hook", "Message", "Topic", "Metrics", "Config", "Log", "Time")
                .whereLayer("Sys").mayNotBeAccessedByAnyLayer()
                .whereLayer("Sys").mayOnlyAccessLayers("Broker", "Session", "Retain", "Message", "Topic", "Metrics", "Config",
                        "Time")
                .check(CLASSES);
    }
}
