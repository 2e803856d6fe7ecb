import type { Knex } from 'knex';

// Schema builder only, so the same migration runs on SQLite, SQL Server and PostgreSQL.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('devices', (t) => {
    t.string('id', 64).primary();
    t.string('hostname', 255).notNullable();
    t.string('app_version', 64).notNullable();
    t.timestamp('first_seen', { useTz: true }).notNullable();
    t.timestamp('last_seen', { useTz: true }).notNullable();
    t.string('status', 32).notNullable();
  });
  await knex.schema.createTable('readings', (t) => {
    t.string('id', 36).primary();
    t.string('device_id', 64).notNullable();
    t.string('app_version', 64).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.double('temperature_c').notNullable();
    t.double('humidity_pct').notNullable();
    t.double('pressure_hpa').notNullable();
    t.double('wind_speed_ms').notNullable();
    t.integer('wind_direction_deg').notNullable();
    t.double('precipitation_mm').notNullable();
    t.string('condition', 32).notNullable();
    t.timestamp('uploaded_at', { useTz: true }).notNullable();
    t.index(['device_id', 'recorded_at'], 'readings_device_time');
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
