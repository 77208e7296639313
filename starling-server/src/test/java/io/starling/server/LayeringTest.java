package io.starling.server;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.Test;

/**
 * The packages of starling-server form layers without cycles, from the top: {@code io.starling.server}
 * ({@link StarlingServer}) → {@code pipeline} (assembles a connection's handlers) → {@code protocol} (the MQTT
 * connection) and {@code transport} (framing, TLS, WebSocket, admission), which do not know each other → {@code wire}
 * (what passes between those two). {@code config} stands on its own. {@code admin} (the HTTP admin listener) sits
 * below the server and reads what {@code protocol} and {@code transport} count; {@code bridge} (MQTT bridges to other
 * brokers) sits below the server only.
 */
class LayeringTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.starling.server");

    @Test
    void packagesAreFreeOfCycles() {
        SlicesRuleDefinition.slices().matching("io.starling.server.(*)..").should().beFreeOfCycles()
                .check(CLASSES);
    }

    @Test
    void layersOnlyLookDown() {
        Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("Server").definedBy("io.starling.server")
                .layer("Config").definedBy("io.starling.server.config..")
                .layer("Bridge").definedBy("io.starling.server.bridge..")
                .layer("Admin").definedBy("io.starling.server.admin..")
                .layer("Pipeline").definedBy("io.starling.server.pipeline..")
                .layer("Protocol").definedBy("io.starling.server.protocol..")
                .layer("Transport").definedBy("io.starling.server.transport..")
                .layer("Wire").definedBy("io.starling.server.wire..")
                .whereLayer("Server").mayNotBeAccessedByAnyLayer()
                .whereLayer("Config").mayOnlyBeAccessedByLayers("Server")
                .whereLayer("Bridge").mayOnlyBeAccessedByLayers("Server")
                .whereLayer("Admin").mayOnlyBeAccessedByLayers("Server")
                .whereLayer("Pipeline").mayOnlyBeAccessedByLayers("Server")
                .whereLayer("Protocol").mayOnlyBeAccessedByLayers("Server", "Pipeline", "Admin")
                .whereLayer("Transport").mayOnlyBeAccessedByLayers("Server", "Pipeline", "Admin")
                .whereLayer("Wire").mayOnlyBeAccessedByLayers("Pipeline", "Protocol", "Transport")
                .check(CLASSES);
    }
}
