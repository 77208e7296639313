package io.starling.store.rocksdb;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The RocksDB store implements the broker's storage SPI and uses only what the SPI speaks of (messages, deliveries,
 * subscriptions, retained messages, settings): never the session, routing or anything above, so that the engine's
 * internals can change without the store noticing, and the store can be replaced without the engine noticing.
 */
class LayeringTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.starling.store.rocksdb");

    @Test
    void usesOnlyTheStorageSpiOfTheBroker() {
        classes().that().resideInAPackage("io.starling.store.rocksdb..")
                .should().onlyDependOnClassesThat().resideInAnyPackage(
                        "io.starling.store.rocksdb..",
                        // the broker's storage SPI and the packages it speaks of
                        "io.starling.broker.store..", "io.starling.broker.message..", "io.starling.broker.retain..",
                        "io.starling.broker.topic..", "io.starling.broker.config..", "io.starling.broker.time..",
                        "io.starling.broker.log..", "io.starling.codec..",
                        "java..", "org.rocksdb..", "io.netty.util..", "org.slf4j..")
                .check(CLASSES);
    }
}
