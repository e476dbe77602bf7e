// NestJS 11 on its express platform, serving the bench's route mix (test/bench/apps/routes.mjs
// LOAD_MIX) like the express app (test/bench/apps/app.mjs): GET /health, GET /api/items/:id,
// everything else Nest's own 404. Decorators are called as TypeScript's compiled code calls them.
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { announce } from './listen.mjs';

class HealthController {
  health() {
    return { status: 'ok' };
  }
}
Get('health')(HealthController.prototype, 'health', Object.getOwnPropertyDescriptor(HealthController.prototype, 'health'));
Controller()(HealthController);

class ItemsController {
  get(id) {
    return { id, name: `item ${id}`, tags: ['a', 'b'] };
  }
}
Param('id')(ItemsController.prototype, 'get', 0);
Get(':id')(ItemsController.prototype, 'get', Object.getOwnPropertyDescriptor(ItemsController.prototype, 'get'));
Controller('api/items')(ItemsController);

class AppModule {}
Module({ controllers: [HealthController, ItemsController] })(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
announce(app.getHttpServer());
