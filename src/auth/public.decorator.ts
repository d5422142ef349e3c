import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'wbot:public';

/** Marks a controller or route that answers without the API key (health and metrics). */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(IS_PUBLIC, true);
