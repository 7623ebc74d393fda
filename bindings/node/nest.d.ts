import type { DynamicModule, ModuleMetadata, InjectionToken, OptionalFactoryDependency } from '@nestjs/common';
import type { Engine, EngineOptions, Decision, Principal as WardenPrincipal, Resource, WardenState as State, ExpressOptions } from './index';

export interface WardenModuleOptions extends EngineOptions, Pick<ExpressOptions, 'principal' | 'input' | 'maxBody' | 'onDeny'> {
  /** The policy file, or its text; not with `engine`. */
  policy?: string | { name?: string; source: string };
  /** An engine already loaded (shared with other code). */
  engine?: Engine;
}

export interface WardenModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: never[]) => WardenModuleOptions | Promise<WardenModuleOptions>;
}

/** Injection token of the options. */
export declare const WARDEN_OPTIONS: unique symbol;
/** Injection token of the loaded `Engine` (`@Inject(WARDEN_ENGINE) engine: Engine`). */
export declare const WARDEN_ENGINE: unique symbol;

/**
 * Global module: loads the policy once (a policy that does not load fails the
 * bootstrap) and puts the Warden middleware in front of every route.
 */
export declare class WardenModule {
  static forRoot(options: WardenModuleOptions): DynamicModule;
  static forRootAsync(options: WardenModuleAsyncOptions): DynamicModule;
}

/** Resource-level checks in services. */
export declare class WardenService {
  readonly engine: Engine;
  authorize(principal: WardenPrincipal | null | undefined, action: string, resource?: Resource | null, context?: Record<string, unknown> | null): Decision;
  /** As `authorize`, throwing `ForbiddenException` (`{ statusCode: 403, message, error }`) on a denial. */
  assert(principal: WardenPrincipal | null | undefined, action: string, resource?: Resource | null, context?: Record<string, unknown> | null): Decision;
}

/** The verified principal (or one of its properties: `@Principal('id')`); null when anonymous. */
export declare const Principal: (property?: string) => ParameterDecorator;
/** The request's `{ principal, decision }`. */
export declare const WardenState: () => ParameterDecorator;

/** The default refusal: Nest's `{ statusCode, message, error }`. */
export declare const nestDeny: NonNullable<ExpressOptions['onDeny']>;

export type { State as WardenRequestState };
