import { expect } from 'chai';
import mongoose from 'mongoose';
import { startFerretDB } from '../src/index.js';
import type { FerretDBServer } from '../src/index.js';
import { expectProcessGone } from './support.js';

describe('harness: ferretdb', function () {
  let server: FerretDBServer | undefined;
  let connection: mongoose.Connection | undefined;

  before(async () => {
    server = await startFerretDB();
  });
  after(async () => {
    await connection?.close();
    await server?.stop();
  });

  it('speaks MongoDB to mongoose, unique indexes included', async () => {
    expect(server!.url).to.match(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server!.backend).to.equal('postgresql');
    connection = await mongoose
      .createConnection(server!.url, { dbName: 'harness', serverSelectionTimeoutMS: 5_000 })
      .asPromise();
    const User = connection.model(
      'User',
      new mongoose.Schema({ handle: { type: String, required: true, unique: true }, name: String }),
    );
    await User.init();
    await User.create({ handle: 'ada', name: 'Ada' });
    expect(await User.findOne({ handle: 'ada' }).lean()).to.include({ name: 'Ada' });
    const duplicate = await User.create({ handle: 'ada', name: 'Impostor' }).then(
      () => undefined,
      (error: unknown) => error as { code?: number },
    );
    expect(duplicate, 'a duplicate insert must fail').to.not.equal(undefined);
    expect(duplicate!.code).to.equal(11000);
    expect(await User.countDocuments()).to.equal(1);
  });

  it('runs on SQLite when asked', async () => {
    const sqlite = await startFerretDB({ backend: 'sqlite' });
    const conn = await mongoose
      .createConnection(sqlite.url, { dbName: 'harness', serverSelectionTimeoutMS: 5_000 })
      .asPromise();
    try {
      expect(sqlite.backend).to.equal('sqlite');
      await conn.collection('things').insertOne({ n: 1 });
      expect(await conn.collection('things').countDocuments()).to.equal(1);
    } finally {
      await conn.close();
      await sqlite.stop();
    }
  });

  it('stops the server process', async () => {
    await connection?.close();
    connection = undefined;
    const pid = server!.pid;
    await server!.stop();
    server = undefined;
    await expectProcessGone(pid, 'ferretdb');
  });
});
