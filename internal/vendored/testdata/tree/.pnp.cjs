#!/usr/bin/env node
/* eslint-disable */
