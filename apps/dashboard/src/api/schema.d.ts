// Generated from the running server's /openapi.json by apps/dashboard/test/api-schema.test.ts.
// Do not edit: refresh with SWITCHYARD_WRITE_DOCS=1 node --test apps/dashboard/test/api-schema.test.ts
export interface paths {
    "/.well-known/jwks.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Public keys that verify access tokens (JWKS) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/activity/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Processed events in processing order; the next page is in Link: rel="next" */
        get: {
            parameters: {
                query?: {
                    cursor?: string;
                    eventType?: string;
                    from?: string;
                    limit?: number;
                    /** @description asc: processing order; desc: newest first (a cursor then continues with older events) */
                    order?: "asc" | "desc";
                    to?: string;
                    userId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: uuid */
                            eventId: string;
                            eventType: string;
                            payload?: {
                                [key: string]: unknown;
                            };
                            /** Format: date-time */
                            processedAt: string;
                            /** Format: date-time */
                            timestamp: string;
                            userId: string;
                        }[];
                    };
                };
            };
        };
        put?: never;
        /** Record one activity event */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description { userId: string (1–256), eventType: one of the configured types, payload?: object (≤ 64 KB) } */
            requestBody: {
                content: {
                    "application/json": unknown;
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            event: {
                                /** Format: uuid */
                                eventId: string;
                                eventType: string;
                                payload?: {
                                    [key: string]: unknown;
                                };
                                /** Format: date-time */
                                timestamp: string;
                                userId: string;
                            };
                            /** @enum {boolean} */
                            success: true;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/activity/events:batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Record up to 1000 events; each gets its own result, the valid ones are stored together */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        events: unknown[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/activity/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Events per type per interval (default: the last 24 hours by hour) */
        get: {
            parameters: {
                query?: {
                    from?: string;
                    interval?: "minute" | "hour" | "day";
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Buckets with no events are left out */
                            buckets: {
                                /** @description Events per type */
                                counts: {
                                    [key: string]: number;
                                };
                                /** Format: date-time */
                                start: string;
                            }[];
                            /** @description The event types this installation accepts */
                            eventTypes: string[];
                            /** Format: date-time */
                            from: string;
                            /** @enum {unknown} */
                            interval: "minute" | "hour" | "day";
                            /** Format: date-time */
                            to: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/activity/users/{userId}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's timeline, newest first */
        get: {
            parameters: {
                query?: {
                    cursor?: string;
                    limit?: number;
                };
                header?: never;
                path: {
                    userId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: uuid */
                            eventId: string;
                            eventType: string;
                            payload?: {
                                [key: string]: unknown;
                            };
                            /** Format: date-time */
                            processedAt: string;
                            /** Format: date-time */
                            timestamp: string;
                            userId: string;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List API keys (never the keys themselves) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            created_at: string;
                            created_by: string;
                            expires_at: string | null;
                            id: string;
                            last_used_at: string | null;
                            name: string;
                            prefix: string;
                            revoked_at: string | null;
                            role: "admin" | "operator" | "member";
                        }[];
                    };
                };
            };
        };
        put?: never;
        /** Create an API key for a machine; the key is in this response only */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: date-time */
                        expires_at?: string;
                        name: string;
                        role: "admin" | "operator" | "member";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            created_at: string;
                            created_by: string;
                            expires_at: string | null;
                            id: string;
                            last_used_at: string | null;
                            name: string;
                            prefix: string;
                            revoked_at: string | null;
                            role: "admin" | "operator" | "member";
                        } & {
                            key: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an API key */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign in with email and password (and a second factor when enrolled) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: email */
                        email: string;
                        password: string;
                        recovery_code?: string;
                        /** @description The 6-digit code of the authenticator app */
                        totp_code?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            access_token: string;
                            /** @description Seconds the access token is valid */
                            expires_in: number;
                            refresh_expires_in: number;
                            /** @description Spend it once at /api/v1/auth/refresh; a spent token replayed ends the session */
                            refresh_token: string;
                            session_id: string;
                            /** @enum {string} */
                            token_type: "Bearer";
                            user: {
                                email: string;
                                id: string;
                                name: string;
                                role: "admin" | "operator" | "member";
                                status: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End the current session (its access and refresh tokens stop working) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who the caller is */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            api_key_id: string | null;
                            kind: string;
                            mfa_enabled: boolean;
                            role: string;
                            session_id: string | null;
                            user: {
                                email: string;
                                id: string;
                                name: string;
                                role: "admin" | "operator" | "member";
                                status: string;
                            } | null;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/mfa/recovery-codes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** How many recovery codes are left */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            remaining: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/mfa/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start TOTP enrolment: returns the secret and an otpauth URI for an authenticator app */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            otpauth_uri: string;
                            secret: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/mfa/totp/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Remove the second factor; needs the password and a current code or a recovery code */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The 6-digit code of the authenticator app */
                        code?: string;
                        password: string;
                        recovery_code?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/mfa/totp/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Finish enrolment with a code from the app; returns ten one-time recovery codes, shown once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The 6-digit code of the authenticator app */
                        code: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            enabled: boolean;
                            recovery_codes: string[];
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Trade a refresh token for a new pair; each refresh token works once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        refresh_token: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            access_token: string;
                            /** @description Seconds the access token is valid */
                            expires_in: number;
                            refresh_expires_in: number;
                            /** @description Spend it once at /api/v1/auth/refresh; a spent token replayed ends the session */
                            refresh_token: string;
                            session_id: string;
                            /** @enum {string} */
                            token_type: "Bearer";
                            user: {
                                email: string;
                                id: string;
                                name: string;
                                role: "admin" | "operator" | "member";
                                status: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create an account (admins only) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: email */
                        email: string;
                        name: string;
                        password: string;
                        role?: "admin" | "operator" | "member";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            email: string;
                            id: string;
                            name: string;
                            role: "admin" | "operator" | "member";
                            status: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's active sessions */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            created_at: string;
                            current: boolean;
                            expires_at: string;
                            id: string;
                            ip: string | null;
                            last_used_at: string;
                            user_agent: string | null;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Log out everywhere: end every session of the caller, this one included */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            ended: number;
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** End one of your sessions */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/setup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create the first admin with the one-time link printed at first start */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: email */
                        email: string;
                        name: string;
                        password: string;
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            email: string;
                            id: string;
                            name: string;
                            role: "admin" | "operator" | "member";
                            status: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/signing-keys/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sign new access tokens with a new key; tokens signed with the old one stay valid until they expire */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            kid: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dead-letters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List dead letters, newest failure first */
        get: {
            parameters: {
                query?: {
                    /** @description last failure at or after */
                    from?: string;
                    group?: string;
                    include_replayed?: boolean;
                    limit?: number;
                    /** @description last failure before */
                    to?: string;
                    topic?: string;
                    type?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            attempts: number;
                            consumer_group: string;
                            error: string;
                            event_id: string | null;
                            event_type: string | null;
                            /** Format: date-time */
                            first_failed_at: string;
                            headers: {
                                [key: string]: string;
                            };
                            /** Format: uuid */
                            id: string;
                            /** Format: date-time */
                            last_failed_at: string;
                            partition_key: string | null;
                            /** @description The message as it arrived */
                            payload: string;
                            /** @enum {unknown} */
                            reason: "handler_failed" | "malformed" | "schema";
                            replay_count: number;
                            replayed_at: string | null;
                            stack: string | null;
                            topic: string;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dead-letters/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One dead letter */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            attempts: number;
                            consumer_group: string;
                            error: string;
                            event_id: string | null;
                            event_type: string | null;
                            /** Format: date-time */
                            first_failed_at: string;
                            headers: {
                                [key: string]: string;
                            };
                            /** Format: uuid */
                            id: string;
                            /** Format: date-time */
                            last_failed_at: string;
                            partition_key: string | null;
                            /** @description The message as it arrived */
                            payload: string;
                            /** @enum {unknown} */
                            reason: "handler_failed" | "malformed" | "schema";
                            replay_count: number;
                            replayed_at: string | null;
                            stack: string | null;
                            topic: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Discard a dead letter for good */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dead-letters/{id}/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send the event again, with its original id, to the group that gave up on it */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            status: "replayed";
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dead-letters/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replay every waiting dead letter that matches the filter (at least one field) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * Format: date-time
                         * @description last failure at or after
                         */
                        from?: string;
                        group?: string;
                        /**
                         * Format: date-time
                         * @description last failure before
                         */
                        to?: string;
                        topic?: string;
                        type?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            ids: string[];
                            replayed: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/dev/mail": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Mail the built-in SMTP capture received (embedded mode, when SMTP_URL is not set), newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description The Date header when readable, else when the message arrived */
                            date: string;
                            envelope: {
                                from: string | null;
                                to: string[];
                            };
                            from: string;
                            html: string | null;
                            id: string;
                            messageId: string | null;
                            receivedAt: string;
                            sizeBytes: number;
                            subject: string;
                            text: string | null;
                            to: string;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/inbox": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's in-app notifications, newest first */
        get: {
            parameters: {
                query?: {
                    archived?: boolean;
                    cursor?: string;
                    limit?: number;
                    unread?: boolean;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            archived_at: string | null;
                            body: string;
                            category: string | null;
                            created_at: string;
                            data: {
                                [key: string]: string;
                            };
                            id: string;
                            read_at: string | null;
                            request_id: string | null;
                            title: string | null;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/inbox/{id}/archive": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark one item archived */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/inbox/{id}/read": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark one item read */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/inbox/{id}/unread": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark one item unread */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/inbox/read-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark every item read */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            marked: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/inbox/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** New in-app notifications as they arrive (Server-Sent Events) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/inbox/unread-count": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** How many unread, unarchived items */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            unread: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List notification requests, newest first, with their status */
        get: {
            parameters: {
                query?: {
                    /** @description X-Next-Cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                    /** @description scheduled (waits for scheduled_at), pending (deliveries under way), sent, delivered, failed, partially_failed, skipped or cancelled */
                    status?: "scheduled" | "pending" | "sent" | "delivered" | "failed" | "partially_failed" | "skipped" | "cancelled";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            category: string | null;
                            channels: string[];
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            deliveries: number;
                            priority: string;
                            recipients: number;
                            request_id: string;
                            scheduled_at: string | null;
                            /**
                             * @description scheduled (waits for scheduled_at), pending (deliveries under way), sent, delivered, failed, partially_failed, skipped or cancelled
                             * @enum {unknown}
                             */
                            status: "scheduled" | "pending" | "sent" | "delivered" | "failed" | "partially_failed" | "skipped" | "cancelled";
                            subject: string | null;
                            template_code: string | null;
                        }[];
                    };
                };
            };
        };
        put?: never;
        /** Notify recipients on channels; stored before the 202, delivered once per recipient and channel */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        category?: string;
                        channels: ("email" | "push" | "sms" | "in_app" | "webhook")[];
                        content?: {
                            html?: string;
                            subject?: string;
                            text: string;
                        };
                        language?: string;
                        /** @enum {unknown} */
                        priority?: "low" | "normal" | "high" | "critical";
                        recipients: {
                            /** Format: email */
                            email?: string;
                            /** @description E.164, e.g. +4915112345678 */
                            phone?: string;
                            push_token?: string;
                            /** Format: uuid */
                            user_id?: string;
                            /** Format: uri */
                            webhook_url?: string;
                        }[];
                        /** @description Yours; also an idempotency key */
                        request_id?: string;
                        /** Format: date-time */
                        scheduled_at?: string;
                        /** @description The template for every channel */
                        template_code?: string;
                        /** @description A template per channel, overriding template_code for that channel */
                        templates?: {
                            email?: string;
                            in_app?: string;
                            push?: string;
                            sms?: string;
                            webhook?: string;
                        };
                        variables?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deliveries: number;
                            request_id: string;
                            scheduled_at: string | null;
                            status: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/{request_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Status per recipient and channel, with every attempt */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    request_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            category: string | null;
                            channels: string[];
                            /** Format: date-time */
                            created_at: string;
                            deliveries: {
                                address: string | null;
                                attempts: {
                                    /** Format: date-time */
                                    at: string;
                                    attempt: number;
                                    error: string | null;
                                    /** @description sent, delivered, failed, retrying or cancelled */
                                    outcome: string;
                                    provider: string;
                                    provider_message_id: string | null;
                                }[];
                                channel: string;
                                id: string;
                                not_before: string | null;
                                provider: string | null;
                                reason: string | null;
                                /** @description Which recipient of the request, from 0 */
                                recipient_index: number;
                                /** @description pending, sent, delivered, failed, skipped or cancelled */
                                status: string;
                                user_id: string | null;
                            }[];
                            priority: string;
                            request_id: string;
                            scheduled_at: string | null;
                            /**
                             * @description scheduled (waits for scheduled_at), pending (deliveries under way), sent, delivered, failed, partially_failed, skipped or cancelled
                             * @enum {unknown}
                             */
                            status: "scheduled" | "pending" | "sent" | "delivered" | "failed" | "partially_failed" | "skipped" | "cancelled";
                            template_code: string | null;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Cancel what has not been sent yet */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    request_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            cancelled: number;
                            request_id: string;
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/system/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health of dependencies and services, consumer lag and the last hour of throughput */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            bus: "postgres" | "kafka" | "rabbitmq";
                            consumer_groups: {
                                /** @description At least `waiting`: counting stopped there */
                                capped: boolean;
                                /** @description Dead letters of the group waiting for a replay */
                                dead_letters: number;
                                group: string;
                                reason: string | null;
                                /** @description The service that subscribed it */
                                service: string | null;
                                topics: string[];
                                /** @description Events waiting for the group; null when the bus cannot tell cheaply */
                                waiting: number | null;
                            }[];
                            dependencies: {
                                /** @description What it is (e.g. "redis", "kafka") */
                                detail: string;
                                /** @description How long the check took */
                                latency_ms: number;
                                /** @description database, migrations, cache or bus */
                                name: string;
                                status: "ok" | "failing";
                            }[];
                            /** Format: date-time */
                            generated_at: string;
                            mode: "embedded" | "scale-out";
                            services: {
                                groups: string[];
                                name: string;
                                status: "ok" | "degraded";
                            }[];
                            /** Format: date-time */
                            started_at: string;
                            throughput: {
                                /** @description Events this process's consumers handled */
                                handled_last_hour: number;
                                /** @description The last 60 minutes, oldest first */
                                minutes: {
                                    handled: number;
                                    published: number;
                                    /** Format: date-time */
                                    start: string;
                                }[];
                                /** @description Events the installation published (outbox) */
                                published_last_hour: number;
                            };
                            uptime_seconds: number;
                            version: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List tasks */
        get: {
            parameters: {
                query?: {
                    /** @description X-Next-Cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                    /** @description Only tasks whose title contains this text (case-insensitive) */
                    q?: string;
                    /** @description created_at, updated_at or title; prefix with - for descending (default -created_at) */
                    sort?: string;
                    /** @description Where the task stands */
                    status?: "pending" | "in_progress" | "completed";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["def-1"][];
                    };
                };
            };
        };
        put?: never;
        /** Create a task */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        description?: string | null;
                        /**
                         * @description Where the task stands
                         * @enum {unknown}
                         */
                        status?: "pending" | "in_progress" | "completed";
                        title: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: date-time */
                            created_at: string;
                            description: string | null;
                            /** Format: uuid */
                            id: string;
                            owner_id?: string | null;
                            /**
                             * @description Where the task stands
                             * @enum {unknown}
                             */
                            status: "pending" | "in_progress" | "completed";
                            title: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tasks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a task */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: date-time */
                            created_at: string;
                            description: string | null;
                            /** Format: uuid */
                            id: string;
                            owner_id?: string | null;
                            /**
                             * @description Where the task stands
                             * @enum {unknown}
                             */
                            status: "pending" | "in_progress" | "completed";
                            title: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
            };
        };
        /** Update a task (fields left out stay as they are) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        description?: string | null;
                        /**
                         * @description Where the task stands
                         * @enum {unknown}
                         */
                        status?: "pending" | "in_progress" | "completed";
                        title?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: date-time */
                            created_at: string;
                            description: string | null;
                            /** Format: uuid */
                            id: string;
                            owner_id?: string | null;
                            /**
                             * @description Where the task stands
                             * @enum {unknown}
                             */
                            status: "pending" | "in_progress" | "completed";
                            title: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
            };
        };
        post?: never;
        /** Delete a task */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tasks/{id}/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task's history, oldest first (kept after the task is deleted) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            event_data: {
                                [key: string]: unknown;
                            };
                            /** @enum {unknown} */
                            event_type: "task.created" | "task.updated" | "task.deleted";
                            /**
                             * Format: uuid
                             * @description Id of the event recorded
                             */
                            id: string;
                            /** Format: date-time */
                            processed_at: string;
                            /** Format: uuid */
                            task_id: string;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List templates: each code in each language with its latest and live versions */
        get: {
            parameters: {
                query?: {
                    /** @description true: only those with a live version; false: only those without */
                    active?: boolean;
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code?: string;
                    /** @description X-Next-Cursor of the previous page */
                    cursor?: string;
                    /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                    language?: string;
                    limit?: number;
                    /** @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values) */
                    type?: "email" | "push" | "sms" | "in_app" | "webhook";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description null when every version is deactivated */
                            active_version: number | null;
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /**
                             * Format: date-time
                             * @description When version 1 was written
                             */
                            created_at: string;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            latest_version: number;
                            /** @description The latest version's name */
                            name: string;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /**
                             * Format: date-time
                             * @description When the latest version was written
                             */
                            updated_at: string;
                        }[];
                    };
                };
            };
        };
        put?: never;
        /** Create a template: version 1 of a code in a language, live at once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                        code: string;
                        /** @description Liquid source: HTML for email and in_app, text for push and sms, a JSON body for webhook */
                        content: string;
                        /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                        language?: string;
                        name: string;
                        /** @description Required for email; an optional title for push and in_app; none for sms and webhook */
                        subject?: string | null;
                        /** @description Email only: the text/plain part; left out, it is derived from the rendered HTML */
                        text_content?: string | null;
                        /**
                         * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                         * @enum {unknown}
                         */
                        type: "email" | "push" | "sms" | "in_app" | "webhook";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** @description The main body: HTML for email and in_app, text for push and sms, JSON for webhook */
                            content: string;
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            /** Format: uuid */
                            id: string;
                            /** @description At most one version per code and language is active */
                            is_active: boolean;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            name: string;
                            /** @description Email subject (required), push or in-app title (optional); sms and webhook have none */
                            subject: string | null;
                            /** @description Email only: the text/plain part; when null it is derived from the rendered HTML */
                            text_content: string | null;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** Format: date-time */
                            updated_at: string;
                            /** @description Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out */
                            variables: string[];
                            version: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/{code}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get the live version that serves a language: fr-CA is served by fr-CA, else fr, else en (Content-Language names which) */
        get: {
            parameters: {
                query?: {
                    /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                    language?: string;
                };
                header?: never;
                path: {
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** @description The main body: HTML for email and in_app, text for push and sms, JSON for webhook */
                            content: string;
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            /** Format: uuid */
                            id: string;
                            /** @description At most one version per code and language is active */
                            is_active: boolean;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            name: string;
                            /** @description Email subject (required), push or in-app title (optional); sms and webhook have none */
                            subject: string | null;
                            /** @description Email only: the text/plain part; when null it is derived from the rendered HTML */
                            text_content: string | null;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** Format: date-time */
                            updated_at: string;
                            /** @description Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out */
                            variables: string[];
                            version: number;
                        };
                    };
                };
            };
        };
        /** Write a new version of a code in a language (creating the code or the language if need be); live at once unless activate is false */
        put: {
            parameters: {
                query?: {
                    /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                    language?: string;
                };
                header?: never;
                path: {
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Make the new version live (default); false writes a draft */
                        activate?: boolean;
                        /** @description Liquid source: HTML for email and in_app, text for push and sms, a JSON body for webhook */
                        content: string;
                        name: string;
                        /** @description Required for email; an optional title for push and in_app; none for sms and webhook */
                        subject?: string | null;
                        /** @description Email only: the text/plain part; left out, it is derived from the rendered HTML */
                        text_content?: string | null;
                        /**
                         * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                         * @enum {unknown}
                         */
                        type?: "email" | "push" | "sms" | "in_app" | "webhook";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** @description The main body: HTML for email and in_app, text for push and sms, JSON for webhook */
                            content: string;
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            /** Format: uuid */
                            id: string;
                            /** @description At most one version per code and language is active */
                            is_active: boolean;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            name: string;
                            /** @description Email subject (required), push or in-app title (optional); sms and webhook have none */
                            subject: string | null;
                            /** @description Email only: the text/plain part; when null it is derived from the rendered HTML */
                            text_content: string | null;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** Format: date-time */
                            updated_at: string;
                            /** @description Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out */
                            variables: string[];
                            version: number;
                        };
                    };
                };
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** @description The main body: HTML for email and in_app, text for push and sms, JSON for webhook */
                            content: string;
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            /** Format: uuid */
                            id: string;
                            /** @description At most one version per code and language is active */
                            is_active: boolean;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            name: string;
                            /** @description Email subject (required), push or in-app title (optional); sms and webhook have none */
                            subject: string | null;
                            /** @description Email only: the text/plain part; when null it is derived from the rendered HTML */
                            text_content: string | null;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** Format: date-time */
                            updated_at: string;
                            /** @description Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out */
                            variables: string[];
                            version: number;
                        };
                    };
                };
            };
        };
        post?: never;
        /** Take a code down in one language (or in all): its live version is deactivated, its history kept; activate a version to bring it back */
        delete: {
            parameters: {
                query?: {
                    /** @description Only this language; left out, every language of the code */
                    language?: string;
                };
                header?: never;
                path: {
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/{code}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Render a template with variables, exactly as a send would: the live version serving the language, or a given version; 422 names every missing variable */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                        language?: string;
                        /** @description The values the template reads, e.g. {"user": {"name": "Ada"}} */
                        variables?: {
                            [key: string]: unknown;
                        };
                        /** @description A stored version in exactly `language` (drafts included); default the live one */
                        version?: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** @description email and in_app only */
                            html: string | null;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            /** @description One line: line breaks become spaces */
                            subject: string | null;
                            /** Format: uuid */
                            template_id: string;
                            /** @description sms/push: the message; email: the text part (derived from the HTML when the template has none); in_app: the HTML as text; webhook: the JSON body */
                            text: string;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            version: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/{code}/versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A code's versions in one language (exactly; no fallback), newest first, without their bodies */
        get: {
            parameters: {
                query?: {
                    /** @description X-Next-Cursor of the previous page */
                    cursor?: string;
                    /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                    language?: string;
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            /** Format: uuid */
                            id: string;
                            /** @description At most one version per code and language is active */
                            is_active: boolean;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            name: string;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** Format: date-time */
                            updated_at: string;
                            version: number;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/{code}/versions/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One version of a code in one language (exactly; no fallback), with its bodies */
        get: {
            parameters: {
                query?: {
                    /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                    language?: string;
                };
                header?: never;
                path: {
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code: string;
                    version: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** @description The main body: HTML for email and in_app, text for push and sms, JSON for webhook */
                            content: string;
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            /** Format: uuid */
                            id: string;
                            /** @description At most one version per code and language is active */
                            is_active: boolean;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            name: string;
                            /** @description Email subject (required), push or in-app title (optional); sms and webhook have none */
                            subject: string | null;
                            /** @description Email only: the text/plain part; when null it is derived from the rendered HTML */
                            text_content: string | null;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** Format: date-time */
                            updated_at: string;
                            /** @description Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out */
                            variables: string[];
                            version: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/{code}/versions/{version}/activate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make a version live in its language (roll forward or back); the live one is deactivated */
        post: {
            parameters: {
                query?: {
                    /** @description BCP 47 language tag, e.g. en, fr-CA; default en */
                    language?: string;
                };
                header?: never;
                path: {
                    /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                    code: string;
                    version: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Lower-case letters, digits and . _ - (not first), at most 100 characters */
                            code: string;
                            /** @description The main body: HTML for email and in_app, text for push and sms, JSON for webhook */
                            content: string;
                            /** Format: date-time */
                            created_at: string;
                            created_by: string | null;
                            /** Format: uuid */
                            id: string;
                            /** @description At most one version per code and language is active */
                            is_active: boolean;
                            /** @description BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW */
                            language: string;
                            name: string;
                            /** @description Email subject (required), push or in-app title (optional); sms and webhook have none */
                            subject: string | null;
                            /** @description Email only: the text/plain part; when null it is derived from the rendered HTML */
                            text_content: string | null;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** Format: date-time */
                            updated_at: string;
                            /** @description Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out */
                            variables: string[];
                            version: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Render unsaved template source with variables (an editor previewing as one types); nothing is stored */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Liquid source: HTML for email and in_app, text for push and sms, a JSON body for webhook */
                        content: string;
                        /** @description Required for email; an optional title for push and in_app; none for sms and webhook */
                        subject?: string | null;
                        /** @description Email only: the text/plain part; left out, it is derived from the rendered HTML */
                        text_content?: string | null;
                        /**
                         * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                         * @enum {unknown}
                         */
                        type: "email" | "push" | "sms" | "in_app" | "webhook";
                        /** @description The values the template reads, e.g. {"user": {"name": "Ada"}} */
                        variables?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description email and in_app only */
                            html: string | null;
                            /** @description One line: line breaks become spaces */
                            subject: string | null;
                            /** @description sms/push: the message; email: the text part (derived from the HTML when the template has none); in_app: the HTML as text; webhook: the JSON body */
                            text: string;
                            /**
                             * @description email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)
                             * @enum {unknown}
                             */
                            type: "email" | "push" | "sms" | "in_app" | "webhook";
                            /** @description Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out */
                            variables: string[];
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List users, newest first */
        get: {
            parameters: {
                query?: {
                    /** @description X-Next-Cursor of the previous page */
                    cursor?: string;
                    limit?: number;
                    /** @description Case-insensitive prefix of the name or of the email */
                    q?: string;
                    /** @description What the user may do (see the permission table) */
                    role?: "admin" | "operator" | "member";
                    /** @description Disabled users keep their data but cannot sign in */
                    status?: "active" | "disabled";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["def-0"][];
                    };
                };
            };
        };
        put?: never;
        /** Create a user */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: email */
                        email: string;
                        /** @description BCP 47 language tag, e.g. en or pt-BR */
                        locale?: string;
                        name: string;
                        /** @description At least 12 characters, not a common password */
                        password: string;
                        preferences?: {
                            category_opt_outs?: string[];
                            email?: boolean;
                            in_app?: boolean;
                            push?: boolean;
                            quiet_hours?: {
                                /** @description HH:MM local time, exclusive; before start crosses midnight */
                                end: string;
                                /** @description HH:MM local time, inclusive */
                                start: string;
                                /** @description IANA time zone, e.g. Europe/Berlin */
                                time_zone: string;
                            } | null;
                            sms?: boolean;
                            webhook?: boolean;
                        };
                        push_token?: string | null;
                        /**
                         * @description What the user may do (see the permission table)
                         * @enum {unknown}
                         */
                        role?: "admin" | "operator" | "member";
                        /**
                         * @description Disabled users keep their data but cannot sign in
                         * @enum {unknown}
                         */
                        status?: "active" | "disabled";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: date-time */
                            created_at: string;
                            /**
                             * Format: email
                             * @description Stored lower-cased
                             */
                            email: string;
                            /** Format: uuid */
                            id: string;
                            /** @description BCP 47 language tag, canonical form */
                            locale: string;
                            name: string;
                            push_token: string | null;
                            /**
                             * @description What the user may do (see the permission table)
                             * @enum {unknown}
                             */
                            role: "admin" | "operator" | "member";
                            /**
                             * @description Disabled users keep their data but cannot sign in
                             * @enum {unknown}
                             */
                            status: "active" | "disabled";
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a user */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: date-time */
                            created_at: string;
                            /**
                             * Format: email
                             * @description Stored lower-cased
                             */
                            email: string;
                            /** Format: uuid */
                            id: string;
                            /** @description BCP 47 language tag, canonical form */
                            locale: string;
                            name: string;
                            push_token: string | null;
                            /**
                             * @description What the user may do (see the permission table)
                             * @enum {unknown}
                             */
                            role: "admin" | "operator" | "member";
                            /**
                             * @description Disabled users keep their data but cannot sign in
                             * @enum {unknown}
                             */
                            status: "active" | "disabled";
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete a user */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        /** Change a user (fields left out stay as they are) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: email */
                        email?: string;
                        /** @description BCP 47 language tag, e.g. en or pt-BR */
                        locale?: string;
                        name?: string;
                        push_token?: string | null;
                        /**
                         * @description What the user may do (see the permission table)
                         * @enum {unknown}
                         */
                        role?: "admin" | "operator" | "member";
                        /**
                         * @description Disabled users keep their data but cannot sign in
                         * @enum {unknown}
                         */
                        status?: "active" | "disabled";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: date-time */
                            created_at: string;
                            /**
                             * Format: email
                             * @description Stored lower-cased
                             */
                            email: string;
                            /** Format: uuid */
                            id: string;
                            /** @description BCP 47 language tag, canonical form */
                            locale: string;
                            name: string;
                            push_token: string | null;
                            /**
                             * @description What the user may do (see the permission table)
                             * @enum {unknown}
                             */
                            role: "admin" | "operator" | "member";
                            /**
                             * @description Disabled users keep their data but cannot sign in
                             * @enum {unknown}
                             */
                            status: "active" | "disabled";
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/users/{id}/preferences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a user's notification preferences */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            category_opt_outs: string[];
                            email: boolean;
                            in_app: boolean;
                            /** @description BCP 47 language tag, canonical form */
                            locale: string;
                            push: boolean;
                            quiet_hours: {
                                /** @description HH:MM local time, exclusive */
                                end: string;
                                /** @description HH:MM local time, inclusive */
                                start: string;
                                /** @description IANA time zone, e.g. Europe/Berlin */
                                time_zone: string;
                            } | null;
                            sms: boolean;
                            webhook: boolean;
                        };
                    };
                };
            };
        };
        /** Replace a user's notification preferences (every field is required) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        category_opt_outs: string[];
                        email: boolean;
                        in_app: boolean;
                        /** @description BCP 47 language tag, e.g. en or pt-BR */
                        locale: string;
                        push: boolean;
                        quiet_hours: {
                            /** @description HH:MM local time, exclusive; before start crosses midnight */
                            end: string;
                            /** @description HH:MM local time, inclusive */
                            start: string;
                            /** @description IANA time zone, e.g. Europe/Berlin */
                            time_zone: string;
                        } | null;
                        sms: boolean;
                        webhook: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            category_opt_outs: string[];
                            email: boolean;
                            in_app: boolean;
                            /** @description BCP 47 language tag, canonical form */
                            locale: string;
                            push: boolean;
                            quiet_hours: {
                                /** @description HH:MM local time, exclusive */
                                end: string;
                                /** @description HH:MM local time, inclusive */
                                start: string;
                                /** @description IANA time zone, e.g. Europe/Berlin */
                                time_zone: string;
                            } | null;
                            sms: boolean;
                            webhook: boolean;
                        };
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events/generate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Source D's ingest: 201 {success, event} / 400 {success, errors} */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description { userId: string (1–256), eventType: one of the configured types, payload?: object (≤ 64 KB) } */
            requestBody: {
                content: {
                    "application/json": unknown;
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            event: {
                                /** Format: uuid */
                                eventId: string;
                                eventType: string;
                                payload?: {
                                    [key: string]: unknown;
                                };
                                /** Format: date-time */
                                timestamp: string;
                                userId: string;
                            };
                            /** @enum {boolean} */
                            success: true;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            errors: string[];
                            /** @enum {boolean} */
                            success: false;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events/processed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Processed events in processing order; the next page is in Link: rel="next" */
        get: {
            parameters: {
                query?: {
                    cursor?: string;
                    eventType?: string;
                    from?: string;
                    limit?: number;
                    /** @description asc: processing order; desc: newest first (a cursor then continues with older events) */
                    order?: "asc" | "desc";
                    to?: string;
                    userId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** Format: uuid */
                            eventId: string;
                            eventType: string;
                            payload?: {
                                [key: string]: unknown;
                            };
                            /** Format: date-time */
                            processedAt: string;
                            /** Format: date-time */
                            timestamp: string;
                            userId: string;
                        }[];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** User */
        "def-0": {
            /** Format: date-time */
            created_at: string;
            /**
             * Format: email
             * @description Stored lower-cased
             */
            email: string;
            /** Format: uuid */
            id: string;
            /** @description BCP 47 language tag, canonical form */
            locale: string;
            name: string;
            push_token: string | null;
            /**
             * @description What the user may do (see the permission table)
             * @enum {unknown}
             */
            role: "admin" | "operator" | "member";
            /**
             * @description Disabled users keep their data but cannot sign in
             * @enum {unknown}
             */
            status: "active" | "disabled";
            /** Format: date-time */
            updated_at: string;
        };
        /** Task */
        "def-1": {
            /** Format: date-time */
            created_at: string;
            description: string | null;
            /** Format: uuid */
            id: string;
            owner_id?: string | null;
            /**
             * @description Where the task stands
             * @enum {unknown}
             */
            status: "pending" | "in_progress" | "completed";
            title: string;
            /** Format: date-time */
            updated_at: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
