// A NestJS app under the preload: `node --import otel-django-metrics/register examples/nestjs/app.mjs`.
// Views are Nest's route templates, global prefix and URI version included (`/api/v1/items/:id`);
// what a guard, a pipe or a handler throws counts by its class (ForbiddenException,
// BadRequestException, NotFoundException), whichever filter answers it. Plain JavaScript, so the
// decorators a TypeScript app writes as `@Get(':id')` are called here as the compiler would.
// NEST_PLATFORM=fastify runs it on @nestjs/platform-fastify instead of express.
import 'reflect-metadata';
import { Body, Controller, Get, Module, NotFoundException, Param, Post, UseGuards, ValidationPipe, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsString } from 'class-validator';
import { fastifyMetricsHandler, metricsHandler } from 'otel-django-metrics';

/** The arguments of a method decorator for `proto[name]`. */
const method = (proto, name) => [proto, name, Object.getOwnPropertyDescriptor(proto, name)];

class CreateItemDto {}
IsString()(CreateItemDto.prototype, 'name');

const items = new Map([['1', { id: '1', name: 'keyboard' }]]);

class ItemsController {
  get(id) {
    const item = items.get(id);
    if (item === undefined) throw new NotFoundException(`no item ${id}`);
    return item;
  }

  create(dto) {
    const item = { id: String(items.size + 1), name: dto.name };
    items.set(item.id, item);
    return item;
  }
}
// What TypeScript's emitDecoratorMetadata records: ValidationPipe validates each parameter as its type.
Reflect.defineMetadata('design:paramtypes', [String], ItemsController.prototype, 'get');
Reflect.defineMetadata('design:paramtypes', [CreateItemDto], ItemsController.prototype, 'create');
Param('id')(ItemsController.prototype, 'get', 0);
Get(':id')(...method(ItemsController.prototype, 'get'));
Body()(ItemsController.prototype, 'create', 0);
Post()(...method(ItemsController.prototype, 'create'));
Controller({ path: 'items', version: '1' })(ItemsController);

/** Nobody is an admin here: Nest answers 403 with a ForbiddenException. */
class AdminGuard {
  canActivate() {
    return false;
  }
}

class AdminController {
  stats() {
    return { items: items.size };
  }
}
Get('stats')(...method(AdminController.prototype, 'stats'));
UseGuards(AdminGuard)(...method(AdminController.prototype, 'stats'));
Controller('admin')(AdminController);

class AppModule {}
Module({ controllers: [ItemsController, AdminController] })(AppModule);

const fastify = process.env.NEST_PLATFORM === 'fastify';
const options = { logger: ['error', 'warn'] };
const app = fastify
  ? await NestFactory.create(AppModule, new (await import('@nestjs/platform-fastify')).FastifyAdapter(), options)
  : await NestFactory.create(AppModule, options);
// The in-app scrape, on the platform's own instance: Nest's routes get the global prefix, this one does not.
app.getHttpAdapter().getInstance().get('/metrics', fastify ? fastifyMetricsHandler() : metricsHandler());
app.setGlobalPrefix('api');
app.enableVersioning({ type: VersioningType.URI });
app.useGlobalPipes(new ValidationPipe());
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 8000), process.env.HOST ?? '127.0.0.1');
console.log(`listening ${app.getHttpServer().address().port}`);
