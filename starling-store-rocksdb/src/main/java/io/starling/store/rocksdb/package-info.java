/** Durable storage on embedded RocksDB: {@link io.starling.store.rocksdb.RocksDbStore}. */
package io.starling.store.rocksdb;
